/* Column mapping: header names matched loosely (case, accents, spaces and
 * underscores ignored) to canonical columns and custom fields, or by --map. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hygiene.h"
#include "mapping.h"

/* Folded name without spaces: "First Name", "first_name", "FIRSTNAME" agree. */
static void compact_key(const char *name, char *out, size_t size)
{
    char *f = crm_fold_key(name);
    size_t n = 0;
    for (const char *p = f ? f : name; *p && n + 1 < size; p++)
        if (*p != ' ' && *p != '_' && *p != '-')
            out[n++] = (char)tolower((unsigned char)*p);
    out[n] = '\0';
    free(f);
}

bool imp_is_custom(const imp_ctx *c, const char *field)
{
    return c->ent->custom >= 0 &&
           crm_config_custom_field(c->k->cfg, (crm_entity)c->ent->custom, field) != NULL;
}

/* The entity's field named exactly or loosely `name`: canonical first, then custom. */
static const char *find_field(const imp_ctx *c, const char *name, bool loose)
{
    char want[256], have[256];
    compact_key(name, want, sizeof want);
    for (const char *const *col = c->ent->columns; *col; col++) {
        compact_key(*col, have, sizeof have);
        if (loose ? strcmp(want, have) == 0 : strcmp(name, *col) == 0)
            return *col;
    }
    if (c->ent->custom < 0)
        return NULL;
    const crm_config *cfg = c->k->cfg;
    for (size_t i = 0; i < cfg->n_custom[c->ent->custom]; i++) {
        const char *cname = cfg->custom[c->ent->custom][i].name;
        compact_key(cname, have, sizeof have);
        if (loose ? strcmp(want, have) == 0 : strcmp(name, cname) == 0)
            return cname;
    }
    return NULL;
}

static void note_unknown(imp_mapper *m, const char *name)
{
    char *u = m->unknown;
    if (!u)
        return;
    size_t len = strlen(u);
    if (strlen(name) + len + 3 >= m->unknown_size)
        return;
    snprintf(u + len, m->unknown_size - len, "%s%s", len ? ", " : "", name);
}

/* A --map entry for column `name`: 1 and *field when found. */
static int mapped(const imp_ctx *c, const char *name, const char **field)
{
    char want[256], col[256];
    compact_key(name, want, sizeof want);
    for (size_t i = 0; i < c->o->n_map; i++) {
        const char *m = c->o->map[i], *eq = strchr(m, '=');
        char left[256];
        snprintf(left, sizeof left, "%.*s", (int)(eq - m), m);
        compact_key(left, col, sizeof col);
        if (strcmp(col, want) == 0) {
            *field = strcmp(eq + 1, "-") == 0 ? NULL : find_field(c, eq + 1, false);
            return 1;
        }
    }
    return 0;
}

const char *imp_map_name(const imp_ctx *c, const char *name)
{
    const char *field = NULL;
    return mapped(c, name, &field) ? field : find_field(c, name, true);
}

static const char *map_name(imp_mapper *m, const char *name)
{
    for (size_t i = 0; i < m->n_cache; i++)
        if (strcmp(m->cache_name[i], name) == 0)
            return m->cache_field[i];
    const char *field = imp_map_name(m->c, name);
    if (!field && !mapped(m->c, name, &field))
        note_unknown(m, name); /* not a column mapped to "-" on purpose */
    if (m->n_cache < IMP_NAME_CACHE && (m->cache_name[m->n_cache] = strdup(name)))
        m->cache_field[m->n_cache++] = field;
    return field;
}

void imp_map_row(imp_mapper *m, imp_row *row)
{
    /* CSV rows share the header: map it once. */
    if (!row->names_stable || row->names != m->fields_of || row->n != m->fields_n) {
        for (size_t i = 0; i < row->n && i < IMP_MAX_COLS; i++)
            m->fields[i] = map_name(m, row->names[i]);
        m->fields_of = row->names_stable ? row->names : NULL;
        m->fields_n = row->n;
    }
    row->fields = m->fields;
}

void imp_mapper_free(imp_mapper *m)
{
    for (size_t i = 0; i < m->n_cache; i++)
        free(m->cache_name[i]);
    m->n_cache = 0;
}

int imp_check_map(const imp_ctx *c, crm_err *err)
{
    for (size_t i = 0; i < c->o->n_map; i++) {
        const char *m = c->o->map[i], *eq = strchr(m, '=');
        if (!eq || eq == m)
            return crm_err_set(err, CRM_EUSAGE, "--map '%s': expected COLUMN=FIELD", m);
        if (strcmp(eq + 1, "-") != 0 && !find_field(c, eq + 1, false))
            return crm_err_set(err, CRM_EUSAGE,
                               "--map '%s': '%s' is not a field of %s (use one of the "
                               "canonical columns, a custom field, or '-' to ignore)",
                               m, eq + 1, c->ent->name);
    }
    return CRM_OK;
}
