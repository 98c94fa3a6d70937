#include "tools/cdr.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/diag.h"
#include "base/err.h"
#include "base/sv.h"
#include "config/config.h"
#include "obs/cdr.h"
#include "obs/cdr_table.h"

#define CDR_SOURCES_MAX 16

static void print_usage(FILE *out)
{
    (void)fprintf(out,
                  "usage: sipwarden cdr export --since T [--until T] [--format csv|json]\n"
                  "                            [-c FILE | --database PATH]...\n"
                  "T: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z] (UTC) or seconds since the "
                  "epoch.\n"
                  "Several -c or --database (at most %d): the nodes of a cluster, one "
                  "database after another.\n",
                  CDR_SOURCES_MAX);
}

bool tools_cdr_parse_time(const char *text, int64_t *out_ms)
{
    return cdr_parse_time(text, out_ms);
}

/* The database: --database, else [cdr] database or [state] path of -c FILE (or the default). */
static char *database_path(const char *config, const char *database)
{
    if (database != NULL) {
        return sw_strdup(database);
    }
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = config != NULL ? cfg_load_file(config, &diag) : cfg_load_default(&diag);
    if (cfg == NULL) {
        sw_diag_print(&diag, stderr);
    }
    sw_diag_fini(&diag);
    char *path = NULL;
    if (cfg != NULL) {
        const char *from = cfg->cdr.database != NULL ? cfg->cdr.database : cfg->state.path;
        path = from != NULL ? sw_strdup(from) : NULL;
        if (path == NULL) {
            (void)fprintf(stderr, "sipwarden cdr: %s names no database\n", cfg->source);
        }
    }
    cfg_free(cfg);
    return path;
}

struct export_ctx {
    bool is_json;
    FILE *out;
};

static int print_row(void *ctx, const struct cdr_row *row)
{
    const struct export_ctx *export = ctx;
    char line[8192];
    struct sw_buf buf;
    sw_buf_init(&buf, line, sizeof(line));
    if (export->is_json) {
        cdr_row_json(row, &buf);
    } else {
        cdr_row_csv(row, &buf);
    }
    if (!buf.is_overflow && fwrite(line, 1, buf.len, export->out) != buf.len) {
        return -SW_EIO;
    }
    return 0;
}

/* A database named by -c FILE (is_config) or --database PATH, in command-line order. */
struct export_source {
    const char *name;
    bool is_config;
};

struct export_args {
    struct export_source sources[CDR_SOURCES_MAX];
    size_t source_count; /* 0 = the default configuration's database */
    bool is_too_many;
    const char *since;
    const char *until;
    const char *format;
};

/* Parses the options after "export"; false on a usage error. */
static bool parse_export(int argc, char **argv, struct export_args *args)
{
    static const struct option options[] = {
        { "config", required_argument, NULL, 'c' }, { "database", required_argument, NULL, 'd' },
        { "since", required_argument, NULL, 's' },  { "until", required_argument, NULL, 'u' },
        { "format", required_argument, NULL, 'f' }, { NULL, 0, NULL, 0 },
    };
    int opt;
    optind = 0; /* GNU: full re-initialisation, so the command can run twice in tests */
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): options are parsed once, on the main thread. */
    while ((opt = getopt_long(argc, argv, "c:", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
        case 'd':
            if (args->source_count == CDR_SOURCES_MAX) {
                args->is_too_many = true;
                break;
            }
            args->sources[args->source_count++] =
                (struct export_source){ .name = optarg, .is_config = opt == 'c' };
            break;
        case 's':
            args->since = optarg;
            break;
        case 'u':
            args->until = optarg;
            break;
        case 'f':
            args->format = optarg;
            break;
        default:
            return false;
        }
    }
    return optind == argc && args->since != NULL && !args->is_too_many &&
           (strcmp(args->format, "csv") == 0 || strcmp(args->format, "json") == 0);
}

static int export_main(int argc, char **argv)
{
    struct export_args args = { .format = "csv" };
    struct cdr_query query = { .until_ms = INT64_MAX };
    if (!parse_export(argc, argv, &args) || !tools_cdr_parse_time(args.since, &query.since_ms) ||
        (args.until != NULL && !tools_cdr_parse_time(args.until, &query.until_ms))) {
        print_usage(stderr);
        return 2;
    }
    if (args.source_count == 0) {
        args.sources[args.source_count++] = (struct export_source){ .name = NULL };
    }
    struct export_ctx ctx = { .is_json = strcmp(args.format, "json") == 0, .out = stdout };
    /* #15: each node of a cluster keeps its own records, tagged with its node name. */
    for (size_t i = 0; i < args.source_count; i++) {
        const struct export_source *source = &args.sources[i];
        char *path = source->is_config || source->name == NULL ? database_path(source->name, NULL)
                                                               : database_path(NULL, source->name);
        if (path == NULL) {
            return 1;
        }
        query.database = path;
        char error[512] = "";
        int rc = cdr_table_read(&query, print_row, &ctx, error, sizeof(error));
        sw_free(path);
        if (rc != 0) {
            (void)fprintf(stderr, "sipwarden cdr: %s\n",
                          error[0] != '\0' ? error : sw_strerror(rc));
            return 1;
        }
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

int tools_cdr_main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        print_usage(stdout);
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "export") != 0) {
        print_usage(stderr);
        return 2;
    }
    return export_main(argc - 1, argv + 1);
}
