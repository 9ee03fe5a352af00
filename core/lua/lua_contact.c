/* Contacts as seen by rules: a userdata read lazily, field by field.
 *
 * c.email, c.phone_type ("mobile", "fixed_line", ...), c.tags (a list),
 * c:has_tag("vip"), c.custom.segment (or
 * c["custom.segment"], typed by its crm.yaml declaration), aggregates over
 * qualifying orders (status placed or paid, placed at or before crm.now()):
 * c.order_count, c.total_spent (minor units), c.first_order_at,
 * c.last_order_at; c:orders_since(days) and c:spent_since(days).
 *
 * Every name, with its documentation, is one row of `fields` below.
 *
 * Nothing is read before it is asked for; every name read is recorded for
 * `crm rules eval` (fields_read). The value is valid during its rule call
 * only: a script that keeps it gets an error when using it later. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hygiene.h"
#include "lua/lua_int.h"

#define CONTACT_MT "crm.contact"
#define DAY 86400

typedef enum fkind {
    F_TEXT,    /* crm_contact text field number `arg` */
    F_ID,
    F_COMPANY_ID,
    F_CREATED,
    F_UPDATED,
    F_PHONE_TYPE,
    F_TAGS,
    F_CUSTOM,
    F_AGG,     /* aggregate number `arg` */
    F_METHOD   /* c:name(...) */
} fkind;

typedef struct fdesc {
    crm_lua_field_doc doc;  /* what crm_lua_contact_field gives */
    fkind kind;
    int arg;
    lua_CFunction fn;       /* F_METHOD */
} fdesc;

enum { AGG_COUNT, AGG_TOTAL, AGG_FIRST, AGG_LAST, AGG_N };
_Static_assert(AGG_N == CRM_LUA_AGG_N, "prefetch.c reads the same aggregates");

static int m_has_tag(lua_State *L);
static int m_orders_since(lua_State *L);
static int m_spent_since(lua_State *L);

#define QUALIFYING_DOC "orders with status placed or paid, placed at or before crm.now()"

/* Every name a contact answers, with its documentation: the metatable is
 * built from this table and `crm rules --help` prints it, so the two cannot
 * disagree. The index is the bit in lua_contact.read_mask. IDX_TAGS must
 * stay the index of "tags". */
#define IDX_TAGS 19
static const fdesc fields[] = {
    {{"id", "integer", "the contact's id", false}, F_ID, 0, NULL},
    {{"external_id", "text|nil", "its key in the source system (imports)", false}, F_TEXT, 0,
     NULL},
    {{"first_name", "text|nil", "proper-cased (\"Jean\")", false}, F_TEXT, 1, NULL},
    {{"last_name", "text|nil", "proper-cased, particles kept (\"de la Fontaine\")", false},
     F_TEXT, 2, NULL},
    {{"email", "text|nil", "lower-cased", false}, F_TEXT, 3, NULL},
    {{"phone", "text|nil", "E.164 (\"+33612345678\")", false}, F_TEXT, 4, NULL},
    {{"phone_type", "text|nil",
      "the phone's type from libphonenumber: mobile, fixed_line, fixed_line_or_mobile, voip, "
      "toll_free, ... (nil without a phone)",
      false},
     F_PHONE_TYPE, 0, NULL},
    {{"company", "text|nil", "the name of its company", false}, F_TEXT, 5, NULL},
    {{"street", "text|nil", "", false}, F_TEXT, 6, NULL},
    {{"postal_code", "text|nil", "as validated for the country (\"75011\")", false}, F_TEXT, 7,
     NULL},
    {{"city", "text|nil", "", false}, F_TEXT, 8, NULL},
    {{"country", "text|nil", "ISO 3166 code (\"FR\")", false}, F_TEXT, 9, NULL},
    {{"birth_date", "text|nil", "YYYY-MM-DD", false}, F_TEXT, 10, NULL},
    {{"lifecycle_stage", "text",
      "subscriber, lead, prospect, customer, evangelist or inactive", false},
     F_TEXT, 11, NULL},
    {{"owner", "text|nil", "the email of the user owning it", false}, F_TEXT, 12, NULL},
    {{"source", "text|nil", "where it came from (\"web form\", an import)", false}, F_TEXT, 13,
     NULL},
    {{"company_id", "integer|nil", "the id of its company", false}, F_COMPANY_ID, 0, NULL},
    {{"created_at", "integer", "epoch seconds (UTC)", false}, F_CREATED, 0, NULL},
    {{"updated_at", "integer", "epoch seconds (UTC) of the last change", false}, F_UPDATED, 0,
     NULL},
    {{"tags", "list of text", "sorted; see has_tag", false}, F_TAGS, 0, NULL},
    {{"custom", "table",
      "custom fields by name, typed by their crm.yaml declaration (c.custom.NAME, also "
      "c[\"custom.NAME\"]); nil when unset",
      false},
     F_CUSTOM, 0, NULL},
    {{"order_count", "integer", "how many qualifying orders (" QUALIFYING_DOC ")", false}, F_AGG,
     AGG_COUNT, NULL},
    {{"total_spent", "integer", "their total, in minor units (4990 = 49.90)", false}, F_AGG,
     AGG_TOTAL, NULL},
    {{"first_order_at", "integer|nil", "epoch seconds of the first qualifying order", false},
     F_AGG, AGG_FIRST, NULL},
    {{"last_order_at", "integer|nil", "epoch seconds of the last qualifying order", false},
     F_AGG, AGG_LAST, NULL},
    {{"has_tag(tag)", "boolean", "whether it carries the tag", true}, F_METHOD, 0, m_has_tag},
    {{"orders_since(days)", "integer", "qualifying orders placed in the last DAYS days", true},
     F_METHOD, 0, m_orders_since},
    {{"spent_since(days)", "integer", "their total in minor units", true}, F_METHOD, 0,
     m_spent_since},
};
#define N_FIELDS (sizeof fields / sizeof fields[0])
_Static_assert(N_FIELDS <= 32, "lua_contact.read_mask has a bit per field");

const crm_lua_field_doc *crm_lua_contact_field(size_t i)
{
    return i < N_FIELDS ? &fields[i].doc : NULL;
}

/* The Lua name: "has_tag(tag)" is the method has_tag. */
static void lua_name(const fdesc *f, char *buf, size_t size)
{
    snprintf(buf, size, "%.*s", (int)strcspn(f->doc.name, "("), f->doc.name);
}

/* Columns: id, the 14 text fields in crm_contact_fields order, company_id,
 * created_at, updated_at, phone_type, owner_id, and whether the company's
 * name and the owner's email were joined (1) or are read on first use (0).
 * A scan of every contact does without the two joins: they cost a third of
 * the select, and few rules read those names. */
#define COL_COMPANY_ID 15
#define COL_CREATED 16
#define COL_UPDATED 17
#define COL_PHONE_TYPE 18
#define COL_OWNER_ID 19
#define COL_JOINED 20
#define TEXT_COMPANY 5 /* crm_contact_fields index of the company's name */
#define TEXT_OWNER 12  /* ... and of the owner's email */

const char *crm_lua_contact_select(bool joined)
{
#define CONTACT_COLUMNS_1 "SELECT c.id, c.external_id, c.first_name, c.last_name, c.email, c.phone, "
#define CONTACT_COLUMNS_2 "c.street, c.postal_code, c.city, c.country, c.birth_date, c.lifecycle_stage, "
#define CONTACT_COLUMNS_3 "c.source, c.company_id, c.created_at, c.updated_at, c.phone_type, c.owner_id, "
    return joined ? CONTACT_COLUMNS_1 "co.name, " CONTACT_COLUMNS_2 "u.email, " CONTACT_COLUMNS_3
                                      "1 FROM contacts c LEFT JOIN companies co ON co.id = "
                                      "c.company_id LEFT JOIN users u ON u.id = c.owner_id "
                  : CONTACT_COLUMNS_1 "NULL, " CONTACT_COLUMNS_2 "NULL, " CONTACT_COLUMNS_3
                                      "0 FROM contacts c ";
#undef CONTACT_COLUMNS_1
#undef CONTACT_COLUMNS_2
#undef CONTACT_COLUMNS_3
}

typedef struct lua_contact {
    crm_lua_engine *e;
    lua_contact_src src;
    bool expired;
    int64_t id;
    sqlite3_stmt *row;
    const crm_contact *c;   /* SRC_STRUCT, or &own once loaded */
    crm_contact own;
    bool loaded;
    crm_kv *custom;         /* SRC_ROW: loaded on first use */
    size_t n_custom;
    bool custom_loaded;
    bool agg_done;
    int64_t agg[AGG_N];
    bool agg_null[AGG_N];
    uint32_t read_mask;
} lua_contact;

/* ---- reading ---------------------------------------------------------------- */

static lua_contact *self(lua_State *L)
{
    lua_contact *lc = luaL_checkudata(L, 1, CONTACT_MT);
    if (lc->expired)
        luaL_error(L, "contact used after its rule returned");
    return lc;
}

static void raise_err(lua_State *L, const crm_err *err)
{
    luaL_error(L, "%s", err->msg[0] ? err->msg : "cannot read the contact");
}

/* SRC_ID: loads the whole record on first use. */
static const crm_contact *record(lua_State *L, lua_contact *lc)
{
    if (lc->src == SRC_ID && !lc->loaded) {
        crm_err err = {0};
        if (crm_contact_get(lc->e->k, lc->id, &lc->own, &err) != CRM_OK)
            raise_err(L, &err);
        lc->loaded = true;
        lc->c = &lc->own;
    }
    return lc->c;
}

static int64_t contact_id(lua_contact *lc)
{
    if (lc->src == SRC_ROW)
        return sqlite3_column_int64(lc->row, 0);
    return lc->c ? lc->c->id : lc->id;
}

/* The company's name or the owner's email of a row selected without them. */
static void push_joined_name(lua_State *L, lua_contact *lc, int i)
{
    int col = i == TEXT_COMPANY ? COL_COMPANY_ID : COL_OWNER_ID;
    if (sqlite3_column_type(lc->row, col) == SQLITE_NULL) {
        lua_pushnil(L);
        return;
    }
    crm_err err = {0};
    sqlite3_stmt *st = crm_store_stmt(lc->e->k->store,
                                      i == TEXT_COMPANY ? "SELECT name FROM companies WHERE id = ?"
                                                        : "SELECT email FROM users WHERE id = ?",
                                      &err);
    if (!st)
        raise_err(L, &err);
    sqlite3_bind_int64(st, 1, sqlite3_column_int64(lc->row, col));
    const char *v = sqlite3_step(st) == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    v ? (void)lua_pushstring(L, v) : lua_pushnil(L);
    sqlite3_reset(st);
}

static void push_text(lua_State *L, lua_contact *lc, int i)
{
    if (lc->src == SRC_ROW && (i == TEXT_COMPANY || i == TEXT_OWNER) &&
        sqlite3_column_int(lc->row, COL_JOINED) == 0) {
        push_joined_name(L, lc, i);
        return;
    }
    if (lc->src == SRC_ROW) {
        const char *v = (const char *)sqlite3_column_text(lc->row, i + 1);
        v ? (void)lua_pushlstring(L, v, (size_t)sqlite3_column_bytes(lc->row, i + 1))
          : lua_pushnil(L);
        return;
    }
    const crm_contact *c = record(L, lc);
    const char *v = *(char *const *)((const char *)c + crm_contact_fields[i].offset);
    v ? (void)lua_pushstring(L, v) : lua_pushnil(L);
}

static void push_int_col(lua_State *L, lua_contact *lc, int col, int64_t from_struct)
{
    if (lc->src == SRC_ROW) {
        if (sqlite3_column_type(lc->row, col) == SQLITE_NULL)
            lua_pushnil(L);
        else
            lua_pushinteger(L, sqlite3_column_int64(lc->row, col));
        return;
    }
    from_struct ? lua_pushinteger(L, from_struct) : lua_pushnil(L);
}

/* contacts.phone_type, which the model keeps ("" in the struct: none). */
static void push_phone_type(lua_State *L, lua_contact *lc)
{
    if (lc->src == SRC_ROW) {
        const char *v = (const char *)sqlite3_column_text(lc->row, COL_PHONE_TYPE);
        v && *v ? (void)lua_pushstring(L, v) : lua_pushnil(L);
        return;
    }
    const crm_contact *c = record(L, lc);
    *c->phone_type ? (void)lua_pushstring(L, c->phone_type) : lua_pushnil(L);
}

/* The contact's tags from a scan's table when there is one: true when it
 * answered. */
static bool prefetched_tags(lua_State *L, lua_contact *lc, char *const **tags, size_t *n)
{
    if (lc->src != SRC_ROW)
        return false;
    crm_err err = {0};
    int rc = crm_lua_prefetch_tags(lc->e, contact_id(lc), tags, n, &err);
    if (rc != CRM_OK && rc != CRM_ENOTFOUND)
        raise_err(L, &err);
    return rc == CRM_OK;
}

/* Tags as a list, built on first use and kept in the user value. */
static void push_tags(lua_State *L, lua_contact *lc, int ud)
{
    if (lua_getiuservalue(L, ud, 1) == LUA_TTABLE) {
        lua_remove(L, -2);
        return;
    }
    lua_pop(L, 1);
    lua_newtable(L);
    char *const *pre;
    size_t npre;
    crm_err err = {0};
    if (prefetched_tags(L, lc, &pre, &npre)) {
        for (size_t i = 0; i < npre; i++) {
            lua_pushstring(L, pre[i]);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
    } else if (lc->src == SRC_ROW) {
        sqlite3_stmt *st = crm_store_stmt(
            lc->e->k->store, "SELECT tag FROM contact_tags WHERE contact_id=? ORDER BY tag",
            &err);
        if (!st)
            raise_err(L, &err);
        sqlite3_bind_int64(st, 1, contact_id(lc));
        for (int i = 1; sqlite3_step(st) == SQLITE_ROW; i++) {
            lua_pushstring(L, (const char *)sqlite3_column_text(st, 0));
            lua_rawseti(L, -2, i);
        }
        sqlite3_reset(st);
    } else {
        const crm_contact *c = record(L, lc);
        for (size_t i = 0; i < c->n_tags; i++) {
            lua_pushstring(L, c->tags[i]);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
    }
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, ud, 1);
}

static void load_custom(lua_State *L, lua_contact *lc, const crm_kv **kv, size_t *n)
{
    if (lc->src != SRC_ROW) {
        const crm_contact *c = record(L, lc);
        *kv = c->custom;
        *n = c->n_custom;
        return;
    }
    if (!lc->custom_loaded) {
        crm_err err = {0};
        if (crm_custom_load(lc->e->k, CRM_ENTITY_CONTACT, contact_id(lc), &lc->custom,
                            &lc->n_custom, &err) != CRM_OK)
            raise_err(L, &err);
        lc->custom_loaded = true;
    }
    *kv = lc->custom;
    *n = lc->n_custom;
}

/* Pushes a custom value converted by its declared type. */
static void push_typed(lua_State *L, crm_lua_engine *e, const char *name, const char *v)
{
    const crm_custom_field *f = crm_config_custom_field(e->k->cfg, CRM_ENTITY_CONTACT, name);
    if (f && f->type == CRM_FIELD_BOOLEAN) {
        lua_pushboolean(L, strcmp(v, "true") == 0);
        return;
    }
    if (f && (f->type == CRM_FIELD_INTEGER || f->type == CRM_FIELD_DECIMAL) &&
        lua_stringtonumber(L, v))
        return;
    lua_pushstring(L, v);
}

/* ---- fields_read ------------------------------------------------------------ */

static void note_name(crm_lua_engine *e, const char *name)
{
    json_t *a = e->call ? e->call->fields_read : NULL;
    if (!a)
        return;
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
        if (strcmp(json_string_value(v), name) == 0)
            return;
    json_array_append_new(a, json_string(name));
}

static void note_field(lua_contact *lc, size_t i)
{
    if (lc->read_mask & (1u << i))
        return;
    lc->read_mask |= 1u << i;
    note_name(lc->e, fields[i].doc.name);
}

static void push_custom_value(lua_State *L, lua_contact *lc, const char *name)
{
    char full[160];
    snprintf(full, sizeof full, "custom.%s", name);
    note_name(lc->e, full);
    const crm_kv *kv;
    size_t n;
    load_custom(L, lc, &kv, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i].key, name) == 0) {
            push_typed(L, lc->e, name, kv[i].value);
            return;
        }
    lua_pushnil(L);
}

/* c.custom: a proxy whose reads are recorded one by one. Upvalue: the contact. */
static int custom_index(lua_State *L)
{
    lua_contact *lc = lua_touserdata(L, lua_upvalueindex(1));
    if (lc->expired)
        return luaL_error(L, "contact used after its rule returned");
    if (lua_type(L, 2) != LUA_TSTRING)
        return lua_pushnil(L), 1;
    push_custom_value(L, lc, lua_tostring(L, 2));
    return 1;
}

static void push_custom_proxy(lua_State *L, int ud)
{
    lua_newtable(L);
    lua_createtable(L, 0, 2);
    lua_pushvalue(L, ud);
    lua_pushcclosure(L, custom_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "custom");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
}

/* ---- aggregates ---------------------------------------------------------- */

/* what c.order_count and its siblings count (prefetch.c's scan too) */
#define QUALIFYING "status IN ('placed','paid') AND placed_at <= ?2"

/* From a scan's table when there is one: true when it answered. */
static bool prefetched(lua_State *L, lua_contact *lc, int64_t since, int64_t v[AGG_N], bool *found)
{
    if (lc->src != SRC_ROW)
        return false;
    crm_err err = {0};
    int rc = crm_lua_prefetch_orders(lc->e, since, contact_id(lc), v, found, &err);
    if (rc != CRM_OK && rc != CRM_ENOTFOUND)
        raise_err(L, &err);
    return rc == CRM_OK;
}

static void load_aggregates(lua_State *L, lua_contact *lc)
{
    if (lc->agg_done)
        return;
    bool found;
    if (prefetched(L, lc, INT64_MIN, lc->agg, &found)) {
        /* as the per-contact query answers: count 0, total 0, no dates */
        if (!found)
            memset(lc->agg, 0, sizeof lc->agg);
        for (int i = 0; i < AGG_N; i++)
            lc->agg_null[i] = !found && (i == AGG_FIRST || i == AGG_LAST);
        lc->agg_done = true;
        return;
    }
    crm_err err = {0};
    sqlite3_stmt *st = crm_store_stmt(
        lc->e->k->store,
        "SELECT count(*), coalesce(sum(total), 0), min(placed_at), max(placed_at) "
        "FROM orders WHERE contact_id = ?1 AND " QUALIFYING, &err);
    if (!st)
        raise_err(L, &err);
    sqlite3_bind_int64(st, 1, contact_id(lc));
    sqlite3_bind_int64(st, 2, lc->e->k->now);
    if (sqlite3_step(st) == SQLITE_ROW)
        for (int i = 0; i < AGG_N; i++) {
            lc->agg_null[i] = sqlite3_column_type(st, i) == SQLITE_NULL;
            lc->agg[i] = sqlite3_column_int64(st, i);
        }
    sqlite3_reset(st);
    lc->agg_done = true;
}

static void push_aggregate(lua_State *L, lua_contact *lc, int which)
{
    load_aggregates(L, lc);
    lc->agg_null[which] ? lua_pushnil(L) : lua_pushinteger(L, lc->agg[which]);
}

/* ---- __index --------------------------------------------------------------- */

static void push_field(lua_State *L, lua_contact *lc, size_t i)
{
    const fdesc *f = &fields[i];
    if (f->kind != F_CUSTOM)  /* custom values are noted one by one */
        note_field(lc, i);
    bool rec = lc->src != SRC_ROW &&
               (f->kind == F_COMPANY_ID || f->kind == F_CREATED || f->kind == F_UPDATED);
    const crm_contact *c = rec ? record(L, lc) : NULL;
    switch (f->kind) {
    case F_TEXT: push_text(L, lc, f->arg); break;
    case F_ID: lua_pushinteger(L, contact_id(lc)); break;
    case F_COMPANY_ID: push_int_col(L, lc, COL_COMPANY_ID, c ? c->company_id : 0); break;
    case F_CREATED: push_int_col(L, lc, COL_CREATED, c ? c->created_at : 0); break;
    case F_UPDATED: push_int_col(L, lc, COL_UPDATED, c ? c->updated_at : 0); break;
    case F_PHONE_TYPE: push_phone_type(L, lc); break;
    case F_TAGS: push_tags(L, lc, 1); break;
    case F_CUSTOM: push_custom_proxy(L, 1); break;
    case F_AGG: push_aggregate(L, lc, f->arg); break;
    case F_METHOD: lua_pushcfunction(L, f->fn); break;  /* not reached: stored as functions */
    }
}

static int unknown_field(lua_State *L, const char *name)
{
    char buf[N_FIELDS][32];
    const char *names[N_FIELDS + 1];
    for (size_t i = 0; i < N_FIELDS; i++) {
        lua_name(&fields[i], buf[i], sizeof buf[i]);
        names[i] = buf[i];
    }
    names[N_FIELDS] = NULL;
    const char *near = crm_suggest(name, names);
    return luaL_error(L, "contact has no field '%s'%s%s%s", name, near ? " (did you mean '" : "",
                      near ? near : "", near ? "'?)" : "");
}

/* Upvalue 1: name -> field index (integer) or method (function). */
static int contact_index(lua_State *L)
{
    lua_contact *lc = lua_touserdata(L, 1);
    if (lc->expired)
        return luaL_error(L, "contact used after its rule returned");
    lua_pushvalue(L, 2);
    int t = lua_rawget(L, lua_upvalueindex(1));
    if (t == LUA_TNUMBER) {
        push_field(L, lc, (size_t)lua_tointeger(L, -1));
        return 1;
    }
    if (t == LUA_TFUNCTION)
        return 1;
    const char *name = lua_tostring(L, 2);
    if (!name)
        return lua_pushnil(L), 1;
    if (strncmp(name, "custom.", 7) == 0) {
        push_custom_value(L, lc, name + 7);
        return 1;
    }
    return unknown_field(L, name);
}

static int contact_newindex(lua_State *L)
{
    return luaL_error(L, "contacts are read-only in rules (write through crm.* host functions)");
}

static int contact_tostring(lua_State *L)
{
    lua_contact *lc = lua_touserdata(L, 1);
    lua_pushfstring(L, "contact %I", (lua_Integer)(lc->expired ? lc->id : contact_id(lc)));
    return 1;
}

/* ---- methods --------------------------------------------------------------- */

static int m_has_tag(lua_State *L)
{
    lua_contact *lc = self(L);
    const char *tag = luaL_checkstring(L, 2);
    note_field(lc, IDX_TAGS);
    char *const *pre;
    size_t npre;
    /* a scan: no list built for one test (unless c.tags built it already) */
    if (lua_getiuservalue(L, 1, 1) != LUA_TTABLE && prefetched_tags(L, lc, &pre, &npre)) {
        for (size_t i = 0; i < npre; i++)
            if (strcmp(pre[i], tag) == 0)
                return lua_pushboolean(L, 1), 1;
        return lua_pushboolean(L, 0), 1;
    }
    push_tags(L, lc, 1);
    for (lua_Integer i = 1; lua_rawgeti(L, -1, i) != LUA_TNIL; i++) {
        bool eq = strcmp(lua_tostring(L, -1), tag) == 0;
        lua_pop(L, 1);
        if (eq)
            return lua_pushboolean(L, 1), 1;
    }
    return lua_pushboolean(L, 0), 1;
}

/* Count or sum of qualifying orders placed in the last `days` days. */
static int orders_window(lua_State *L, const char *what, int which)
{
    lua_contact *lc = self(L);
    lua_Number days = luaL_checknumber(L, 2);
    note_name(lc->e, "orders");
    int64_t v[AGG_N];
    bool found;
    if (prefetched(L, lc, lc->e->k->now - (int64_t)(days * DAY), v, &found)) {
        lua_pushinteger(L, found ? v[which] : 0);
        return 1;
    }
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT %s FROM orders WHERE contact_id = ?1 AND " QUALIFYING
             " AND placed_at > ?3",
             what);
    crm_err err = {0};
    sqlite3_stmt *st = crm_store_stmt(lc->e->k->store, sql, &err);
    if (!st)
        raise_err(L, &err);
    sqlite3_bind_int64(st, 1, contact_id(lc));
    sqlite3_bind_int64(st, 2, lc->e->k->now);
    sqlite3_bind_int64(st, 3, lc->e->k->now - (int64_t)(days * DAY));
    lua_Integer n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    lua_pushinteger(L, n);
    return 1;
}

static int m_orders_since(lua_State *L) { return orders_window(L, "count(*)", AGG_COUNT); }
static int m_spent_since(lua_State *L)
{
    return orders_window(L, "coalesce(sum(total), 0)", AGG_TOTAL);
}

/* ---- life cycle ------------------------------------------------------------ */

void crm_lua_open_contact(lua_State *L)
{
    luaL_newmetatable(L, CONTACT_MT);
    lua_createtable(L, 0, (int)N_FIELDS);
    for (size_t i = 0; i < N_FIELDS; i++) {
        char name[32];
        lua_name(&fields[i], name, sizeof name);
        if (fields[i].kind == F_METHOD)
            lua_pushcfunction(L, fields[i].fn);
        else
            lua_pushinteger(L, (lua_Integer)i);
        lua_setfield(L, -2, name);
    }
    lua_pushcclosure(L, contact_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, contact_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, contact_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "contact");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
}

struct lua_contact *crm_lua_push_contact(lua_State *L, crm_lua_engine *e, lua_contact_src src,
                                         int64_t id, sqlite3_stmt *row, const crm_contact *c)
{
    lua_contact *lc = lua_newuserdatauv(L, sizeof *lc, 1);
    memset(lc, 0, sizeof *lc);
    lc->e = e;
    lc->src = src;
    lc->id = id;
    lc->row = row;
    lc->c = c;
    luaL_setmetatable(L, CONTACT_MT);
    return lc;
}

void crm_lua_contact_expire(struct lua_contact *lc)
{
    if (!lc || lc->expired)
        return;
    lc->id = contact_id(lc);
    lc->expired = true;
    if (lc->loaded)
        crm_contact_clear(&lc->own);
    crm_kv_free(lc->custom, lc->n_custom);
    lc->custom = NULL;
    lc->row = NULL;
    lc->c = NULL;
}
