/* crm — an open-source CRM core. */
#include <sqlite3.h>

#include "cli/cli.h"

int main(int argc, char **argv)
{
    /* Nothing reads SQLite's memory statistics, and keeping them takes a
     * global mutex on every allocation (1-2 % of an import's time). */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return crm_cli_main(argc, argv);
}
