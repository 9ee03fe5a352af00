/* The host API table's layout, pinned: a plugin built against any 1.x SDK
 * reads entry N at the same offset, so an entry that moved (a member added
 * in the middle, a type changed to a different size) fails the build here
 * rather than calling the wrong function in someone's plugin. Entries are
 * function pointers after the header {abi_major, abi_minor, struct_size}.
 * New entries are appended, with a PIN line per entry. */
#include <stddef.h>
#include <stdint.h>

#define CRM_PLUGIN_NO_MACROS
#include "crm/plugin.h"

#define HEAD (2 * sizeof(uint32_t) + sizeof(size_t))
#define SLOT sizeof(void (*)(void))
#define PIN(member, index)                                                                   \
    _Static_assert(offsetof(crm_host_api, member) == HEAD + (index) * SLOT,                  \
                   "crm_host_api." #member " moved: the table is append-only");              \
    _Static_assert(sizeof(((crm_host_api *)0)->member) == SLOT, #member " is not one slot")

_Static_assert(offsetof(crm_host_api, abi_major) == 0, "header");
_Static_assert(offsetof(crm_host_api, abi_minor) == sizeof(uint32_t), "header");
_Static_assert(offsetof(crm_host_api, struct_size) == 2 * sizeof(uint32_t), "header");

/* 1.0 */
PIN(register_migration, 0);
PIN(subscribe, 1);
PIN(register_command, 2);
PIN(register_lua_function, 3);
PIN(declare_config_key, 4);
PIN(config_get_string, 5);
PIN(config_get_int, 6);
PIN(config_get_bool, 7);
PIN(sql_prepare, 8);
PIN(sql_bind_int64, 9);
PIN(sql_bind_text, 10);
PIN(sql_bind_null, 11);
PIN(sql_step, 12);
PIN(sql_reset, 13);
PIN(sql_column_count, 14);
PIN(sql_column_int64, 15);
PIN(sql_column_text, 16);
PIN(sql_column_type, 17);
PIN(sql_finalize, 18);
PIN(sql_exec, 19);
PIN(sql_last_insert_id, 20);
PIN(begin, 21);
PIN(commit, 22);
PIN(rollback, 23);
PIN(contact_get_json, 24);
PIN(contact_add_json, 25);
PIN(contact_update_json, 26);
PIN(interaction_log_json, 27);
PIN(consent_record_json, 28);
PIN(emit_event, 29);
PIN(event_id, 30);
PIN(event_type, 31);
PIN(event_payload, 32);
PIN(event_source, 33);
PIN(event_created_at, 34);
PIN(io_out, 35);
PIN(io_json, 36);
PIN(log, 37);
PIN(set_error, 38);
PIN(last_error, 39);
PIN(now, 40);
PIN(free, 41);
PIN(plugin_name, 42);

/* 1.1 */
PIN(register_noun_command, 43);
PIN(call_rule, 44);
PIN(locale, 45);

/* 1.2 */
PIN(rule_each, 46);

/* 1.3 */
PIN(register_demo, 47);

/* 1.3: sdk13 */
PIN(declare_config_schema, 48);
PIN(config_child, 49);
PIN(config_count, 50);
PIN(config_item, 51);
PIN(config_key, 52);
PIN(config_value, 53);
PIN(config_error, 54);
PIN(config_position, 55);
PIN(register_command_table, 56);
PIN(args_count, 57);
PIN(args_get, 58);
PIN(args_option, 59);
PIN(set_data, 60);
PIN(get_data, 61);
PIN(format_time, 62);
PIN(json_get_int, 63);
PIN(json_get_string, 64);

/* 1.3: seg */
PIN(format_money, 65);
PIN(register_contact_set, 66);

/* 1.3: timers */
PIN(schedule, 67);
PIN(cancel, 68);
PIN(register_timer_handler, 69);
PIN(calendar_add, 70);
PIN(calendar_is_open, 71);
PIN(calendar_next_open, 72);

/* 1.3: tasks */
PIN(task_add_json, 73);
PIN(task_complete, 74);
PIN(task_list_json, 75);

/* 1.3: privacy */
PIN(declare_personal_data, 76);
PIN(declare_personal_callbacks, 77);

/* 1.3: sdkwrites */
PIN(order_add_json, 78);
PIN(user_list_json, 79);
PIN(user_find_json, 80);
PIN(subscribe_from_start, 81);

/* 1.3: ticketing */
PIN(calendar_between, 82);
/* 1.3: messages */
PIN(message_queue_json, 83);

/* 1.4: routes */
PIN(register_route, 84);
PIN(http_param, 85);
PIN(http_query, 86);
PIN(http_body, 87);
PIN(http_caller, 88);
PIN(http_reply, 89);
PIN(http_error, 90);
PIN(call_rule_json, 91);

/* Every entry is pinned: the table ends right after the last one. */
_Static_assert(sizeof(crm_host_api) == HEAD + 92 * SLOT, "an entry is not pinned");

/* The descriptor's header, which the host reads before anything else. */
_Static_assert(offsetof(crm_plugin_descriptor, abi_major) == 0, "descriptor");
_Static_assert(offsetof(crm_plugin_descriptor, abi_minor) == sizeof(uint32_t), "descriptor");
_Static_assert(offsetof(crm_plugin_descriptor, struct_size) == 2 * sizeof(uint32_t), "descriptor");

/* ISO C forbids an empty translation unit. */
typedef int crm_plugin_abi_pins_unit;
