/* The host API table (crm_host_api) handed to plugins: one entry per
 * function, in the SDK's order. The entries live in api_<area>.c. */
#include "sdk13.h"
#include "api.h"
#include "timer_api.h"
#include "tasks_api.h"
#include "privacy/privacy.h"
#include "plugin/api_messages.h"

const crm_host_api crm_plug_api = {
    .abi_major = CRM_PLUGIN_ABI_MAJOR,
    .abi_minor = CRM_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(crm_host_api),
    .register_migration = crm_plug_api_register_migration,
    .subscribe = crm_plug_api_subscribe,
    .register_command = crm_plug_api_register_command,
    .register_lua_function = crm_plug_api_register_lua_function,
    .declare_config_key = crm_plug_api_declare_config_key,
    .config_get_string = crm_plug_api_config_get_string,
    .config_get_int = crm_plug_api_config_get_int,
    .config_get_bool = crm_plug_api_config_get_bool,
    .sql_prepare = crm_plug_api_sql_prepare,
    .sql_bind_int64 = crm_plug_api_bind_int64,
    .sql_bind_text = crm_plug_api_bind_text,
    .sql_bind_null = crm_plug_api_bind_null,
    .sql_step = crm_plug_api_step,
    .sql_reset = crm_plug_api_reset,
    .sql_column_count = crm_plug_api_column_count,
    .sql_column_int64 = crm_plug_api_column_int64,
    .sql_column_text = crm_plug_api_column_text,
    .sql_column_type = crm_plug_api_column_type,
    .sql_finalize = crm_plug_api_finalize,
    .sql_exec = crm_plug_api_exec,
    .sql_last_insert_id = crm_plug_api_last_insert_id,
    .begin = crm_plug_api_begin,
    .commit = crm_plug_api_commit,
    .rollback = crm_plug_api_rollback,
    .contact_get_json = crm_plug_api_contact_get_json,
    .contact_add_json = crm_plug_api_contact_add_json,
    .contact_update_json = crm_plug_api_contact_update_json,
    .interaction_log_json = crm_plug_api_interaction_log_json,
    .consent_record_json = crm_plug_api_consent_record_json,
    .emit_event = crm_plug_api_emit_event,
    .event_id = crm_plug_api_event_id,
    .event_type = crm_plug_api_event_type,
    .event_payload = crm_plug_api_event_payload,
    .event_source = crm_plug_api_event_source,
    .event_created_at = crm_plug_api_event_created_at,
    .io_out = crm_plug_api_io_out,
    .io_json = crm_plug_api_io_json,
    .log = crm_plug_api_log,
    .set_error = crm_plug_api_set_error,
    .last_error = crm_plug_api_last_error,
    .now = crm_plug_api_now,
    .free = crm_plug_api_free,
    .plugin_name = crm_plug_api_plugin_name,
    /* 1.1 */
    .register_noun_command = crm_plug_api_register_noun_command,
    .call_rule = crm_plug_api_call_rule,
    .locale = crm_plug_api_locale,
    /* 1.2 */
    .rule_each = crm_plug_api_rule_each,
    /* 1.3 */
    .register_demo = crm_plug_api_register_demo,
    /* 1.3: sdk13 */
    .declare_config_schema = crm_plug13_declare_config_schema,
    .config_child = crm_plug13_config_child,
    .config_count = crm_plug13_config_count,
    .config_item = crm_plug13_config_item,
    .config_key = crm_plug13_config_key,
    .config_value = crm_plug13_config_value,
    .config_error = crm_plug13_config_error,
    .config_position = crm_plug13_config_position,
    .register_command_table = crm_plug_api_register_command_table,
    .args_count = crm_plug13_args_count,
    .args_get = crm_plug13_args_get,
    .args_option = crm_plug13_args_option,
    .set_data = crm_plug13_set_data,
    .get_data = crm_plug13_get_data,
    .format_time = crm_plug13_format_time,
    .json_get_int = crm_plug13_json_get_int,
    .json_get_string = crm_plug13_json_get_string,
    /* 1.3: seg */
    .format_money = crm_plug_api_format_money,
    .register_contact_set = crm_plug_api_register_contact_set,
    /* 1.3: timers */
    .schedule = crm_plugt_schedule,
    .cancel = crm_plugt_cancel,
    .register_timer_handler = crm_plugt_register_handler,
    .calendar_add = crm_plugt_calendar_add,
    .calendar_is_open = crm_plugt_calendar_is_open,
    .calendar_next_open = crm_plugt_calendar_next_open,
    /* 1.3: tasks */
    .task_add_json = crm_plugtask_add_json,
    .task_complete = crm_plugtask_complete,
    .task_list_json = crm_plugtask_list_json,
    /* 1.3: privacy */
    .declare_personal_data = crm_privacy_declare_table,
    .declare_personal_callbacks = crm_privacy_declare_callbacks,
    /* 1.3: sdkwrites */
    .order_add_json = crm_plugw_order_add_json,
    .user_list_json = crm_plugw_user_list_json,
    .user_find_json = crm_plugw_user_find_json,
    .subscribe_from_start = crm_plugw_subscribe_from_start,
    /* 1.3: ticketing */
    .calendar_between = crm_plugt_calendar_between,
    /* 1.3: messages */
    .message_queue_json = crm_plugm_message_queue_json,
    /* 1.4: routes */
    .register_route = crm_plug_api_register_route,
    .http_param = crm_plug_api_http_param,
    .http_query = crm_plug_api_http_query,
    .http_body = crm_plug_api_http_body,
    .http_caller = crm_plug_api_http_caller,
    .http_reply = crm_plug_api_http_reply,
    .http_error = crm_plug_api_http_error,
    .call_rule_json = crm_plug_api_call_rule_json,
};
