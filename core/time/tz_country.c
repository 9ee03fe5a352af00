/* A country's time zone, read from the tz database's zone.tab (one line per
 * country and zone: "FR<TAB>+4852+00220<TAB>Europe/Paris"), so no country to
 * zone table is written here. Quiet hours use it for a contact whose country
 * is known. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"

static const char *tz_dir(void)
{
    const char *d = getenv("TZDIR");
    return d && *d ? d : "/usr/share/zoneinfo";
}

bool crm_tz_country_zone(const char *country, const char *prefer, char *buf, size_t size)
{
    if (!country || strlen(country) != 2 || size == 0)
        return false;
    char path[4096];
    snprintf(path, sizeof path, "%s/zone.tab", tz_dir());
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[512];
    bool found = false;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || strncmp(line, country, 2) != 0 || line[2] != '\t')
            continue;
        char *zone = strchr(line + 3, '\t');
        if (!zone)
            continue;
        zone++;
        zone[strcspn(zone, "\t\r\n")] = '\0';
        bool preferred = prefer && strcmp(zone, prefer) == 0;
        if (!found || preferred) {
            snprintf(buf, size, "%s", zone);
            found = true;
        }
        if (preferred)
            break;
    }
    fclose(f);
    return found;
}
