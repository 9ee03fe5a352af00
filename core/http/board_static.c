/* The board's embedded files: lookup and content types (see board.h). */
#include <string.h>

#include "http/board.h"

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json; charset=utf-8"},
};

const crm_board_asset *crm_board_find(const char *path)
{
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    for (const crm_board_asset *a = crm_board_assets; a->path; a++)
        if (strcmp(a->path, path) == 0)
            return a;
    return NULL;
}

const char *crm_board_content_type(const crm_board_asset *a)
{
    const char *dot = strrchr(a->path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(types[i].ext, dot) == 0)
            return types[i].type;
    return "application/octet-stream";
}
