#include "tools/passwd.h"

#include <errno.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <termios.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/err.h"
#include "sip/digest.h"
#include "tools/audit_secret.h"

#define EXIT_OK    0
#define EXIT_WEAK  1
#define EXIT_USAGE 2

/* Redraws allowed before giving up; at 16 characters about one draw in four is redrawn. */
#define MAX_DRAWS 1000

const char passwd_alphabet[] = "abcdefghijklmnopqrstuvwxyz"
                               "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "0123456789"
                               "!@#$%^&*";

/* The largest multiple of the alphabet size that a byte can hold: 3 * 70 = 210. */
#define PICK_LIMIT ((256u / PASSWD_ALPHABET_SIZE) * PASSWD_ALPHABET_SIZE)

bool passwd_pick(uint8_t byte, unsigned *index)
{
    if (byte >= PICK_LIMIT) {
        return false;
    }
    *index = byte % PASSWD_ALPHABET_SIZE;
    return true;
}

static int fill_random(uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = getrandom(buf + got, len - got, 0);
        if (n == -1 && errno == EINTR) {
            continue;
        }
        if (n == -1) {
            return -errno;
        }
        got += (size_t)n;
    }
    return 0;
}

/* One uniform draw of `length` characters into `out`; returns the classes seen. */
static int draw_once(size_t length, char *out, unsigned *classes)
{
    uint8_t bytes[64];
    size_t used = sizeof(bytes);
    *classes = 0;
    for (size_t i = 0; i < length;) {
        if (used == sizeof(bytes)) {
            int rc = fill_random(bytes, sizeof(bytes));
            if (rc != 0) {
                OPENSSL_cleanse(bytes, sizeof(bytes));
                return rc;
            }
            used = 0;
        }
        unsigned index = 0;
        if (passwd_pick(bytes[used++], &index)) {
            out[i++] = passwd_alphabet[index];
            /* Classes by position: 0-25 lower, 26-51 upper, 52-61 digit, 62-69 symbol. */
            *classes |= index < 26 ? 1u : index < 52 ? 2u : index < 62 ? 4u : 8u;
        }
    }
    OPENSSL_cleanse(bytes, sizeof(bytes));
    return 0;
}

int passwd_generate(size_t length, char *out, size_t cap)
{
    if (length < PASSWD_MIN_LENGTH || length > PASSWD_MAX_LENGTH || cap <= length) {
        return -SW_EBADARG;
    }
    for (int draw = 0; draw < MAX_DRAWS; draw++) {
        unsigned classes = 0;
        int rc = draw_once(length, out, &classes);
        if (rc != 0) {
            OPENSSL_cleanse(out, cap);
            return rc;
        }
        if (classes == 0x0f) {
            out[length] = '\0';
            return 0;
        }
    }
    OPENSSL_cleanse(out, cap);
    return -SW_ECRYPTO; /* 1000 draws without every class: the generator is broken */
}

/*
 * Reads one line (the secret) from stdin into `buf`, without the line end. On a terminal
 * the prompt goes to stderr and echo is off while typing. Returns the length, or -1.
 */
static long read_secret(char *buf, size_t cap)
{
    struct termios saved;
    bool is_tty = isatty(STDIN_FILENO) == 1 && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (is_tty) {
        struct termios quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        (void)fputs("secret: ", stderr);
        (void)fflush(stderr);
        if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0) {
            return -1; /* never read a secret with echo on when we meant to hide it */
        }
    }
    char *line = fgets(buf, (int)cap, stdin);
    if (is_tty) {
        (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved); /* best effort: restoring echo */
        (void)fputc('\n', stderr);
    }
    if (line == NULL) {
        return -1;
    }
    size_t len = strlen(buf);
    bool has_newline = len > 0 && buf[len - 1] == '\n';
    if (!has_newline && len == cap - 1 && !feof(stdin)) {
        return -1; /* longer than the buffer: refuse rather than cut a secret */
    }
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) {
        buf[--len] = '\0';
    }
    return (long)len;
}

static void usage(FILE *out)
{
    (void)fprintf(
        out,
        "usage: sipwarden passwd gen [--length N]\n"
        "       sipwarden passwd check              (secret on stdin)\n"
        "       sipwarden passwd ha1 --user U --realm R [--algorithm "
        "MD5|SHA-256|SHA-512-256]   (secret on stdin)\n"
        "\n"
        "gen: a random secret of N (default %d, at least %d) characters from letters,\n"
        "     digits and !@#$%%^&*, with every class present.\n"
        "check: length, character classes and the libzxcvbn estimate; exit 1 when weak\n"
        "     (strong = at least %d characters, %d of 4 classes and %.0f bits).\n"
        "ha1: the HA1 hash to write in sipwarden's configuration instead of the secret.\n",
        PASSWD_DEFAULT_LENGTH, PASSWD_MIN_LENGTH, AUDIT_SECRET_MIN_LENGTH, AUDIT_SECRET_MIN_CLASSES,
        AUDIT_SECRET_MIN_BITS);
}

static int gen_main(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "length", required_argument, NULL, 'l' },
        { NULL, 0, NULL, 0 },
    };
    size_t length = PASSWD_DEFAULT_LENGTH;
    int c;
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): options are parsed once, on the main thread. */
    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        uint32_t value = 0;
        if (c != 'l' || !sv_to_u32(sv_from_cstr(optarg), &value) || value < PASSWD_MIN_LENGTH ||
            value > PASSWD_MAX_LENGTH) {
            (void)fprintf(stderr, "sipwarden passwd gen: --length must be %d..%d\n",
                          PASSWD_MIN_LENGTH, PASSWD_MAX_LENGTH);
            return EXIT_USAGE;
        }
        length = value;
    }
    if (optind != argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    char secret[PASSWD_MAX_LENGTH + 1];
    int rc = passwd_generate(length, secret, sizeof(secret));
    if (rc != 0) {
        (void)fprintf(stderr, "sipwarden passwd gen: %s\n", sw_strerror(rc));
        return EXIT_USAGE;
    }
    int written = printf("%s\n", secret);
    OPENSSL_cleanse(secret, sizeof(secret));
    return written < 0 || fflush(stdout) != 0 ? EXIT_USAGE : EXIT_OK;
}

static void print_classes(unsigned classes)
{
    static const char *const names[] = { "lower", "upper", "digit", "symbol" };
    const char *sep = "";
    (void)printf("classes:  ");
    for (unsigned i = 0; i < 4; i++) {
        if ((classes & (1u << i)) != 0) {
            (void)printf("%s%s", sep, names[i]);
            sep = " ";
        }
    }
    (void)printf("\n");
}

static int check_main(int argc, char **argv)
{
    if (argc != 1) {
        (void)fprintf(stderr, "sipwarden passwd check: the secret is read from stdin, never "
                              "from the command line\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    (void)argv;
    char secret[PASSWD_MAX_SECRET + 2];
    long len = read_secret(secret, sizeof(secret));
    if (len <= 0) {
        OPENSSL_cleanse(secret, sizeof(secret));
        (void)fprintf(stderr,
                      "sipwarden passwd check: no secret on stdin (or longer than %d "
                      "bytes)\n",
                      PASSWD_MAX_SECRET);
        return EXIT_USAGE;
    }
    struct audit_secret_score score;
    audit_secret_score(sv_make(secret, (size_t)len), NULL, 0, &score);
    OPENSSL_cleanse(secret, sizeof(secret));
    char verdict[256];
    audit_secret_describe(&score, verdict, sizeof(verdict));
    (void)printf("length:   %zu (at least %d)\n", score.length, AUDIT_SECRET_MIN_LENGTH);
    print_classes(score.classes);
    (void)printf("estimate: %.1f bits (libzxcvbn; at least %.0f)\n", score.bits,
                 AUDIT_SECRET_MIN_BITS);
    (void)printf("verdict:  %s\n", verdict);
    return score.is_ok ? EXIT_OK : EXIT_WEAK;
}

struct ha1_options {
    const char *user;
    const char *realm;
    enum sip_digest_alg alg;
};

static int parse_ha1_options(int argc, char **argv, struct ha1_options *opts)
{
    static const struct option long_options[] = {
        { "user", required_argument, NULL, 'u' },
        { "realm", required_argument, NULL, 'r' },
        { "algorithm", required_argument, NULL, 'a' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): options are parsed once, on the main thread. */
    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        bool is_sess = false;
        if (c == 'u') {
            opts->user = optarg;
        } else if (c == 'r') {
            opts->realm = optarg;
        } else if (c != 'a' || !sip_digest_alg_parse(sv_from_cstr(optarg), &opts->alg, &is_sess) ||
                   is_sess) {
            (void)fprintf(stderr, "sipwarden passwd ha1: --algorithm is MD5, SHA-256 or "
                                  "SHA-512-256\n");
            return EXIT_USAGE;
        }
    }
    if (optind != argc || opts->user == NULL || opts->realm == NULL) {
        usage(stderr);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

static int ha1_main(int argc, char **argv)
{
    struct ha1_options opts = { .user = NULL, .realm = NULL, .alg = SIP_DIGEST_MD5 };
    int rc = parse_ha1_options(argc, argv, &opts);
    if (rc != EXIT_OK) {
        return rc;
    }
    char secret[PASSWD_MAX_SECRET + 2];
    long len = read_secret(secret, sizeof(secret));
    if (len <= 0) {
        OPENSSL_cleanse(secret, sizeof(secret));
        (void)fprintf(stderr,
                      "sipwarden passwd ha1: no secret on stdin (or longer than %d "
                      "bytes)\n",
                      PASSWD_MAX_SECRET);
        return EXIT_USAGE;
    }
    char hex[SIP_DIGEST_HEX_CAP];
    rc = sip_digest_ha1(opts.alg, sv_from_cstr(opts.user), sv_from_cstr(opts.realm),
                        sv_make(secret, (size_t)len), hex);
    OPENSSL_cleanse(secret, sizeof(secret));
    if (rc != 0) {
        (void)fprintf(stderr, "sipwarden passwd ha1: %s\n", sw_strerror(rc));
        return EXIT_USAGE;
    }
    return printf("%s\n", hex) < 0 || fflush(stdout) != 0 ? EXIT_USAGE : EXIT_OK;
}

int tools_passwd_main(int argc, char **argv)
{
    optind = 0; /* GNU: full re-initialisation, so the command can be run twice in tests */
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return EXIT_OK;
    }
    if (argc >= 2 && strcmp(argv[1], "gen") == 0) {
        return gen_main(argc - 1, argv + 1);
    }
    if (argc >= 2 && strcmp(argv[1], "check") == 0) {
        return check_main(argc - 1, argv + 1);
    }
    if (argc >= 2 && strcmp(argv[1], "ha1") == 0) {
        return ha1_main(argc - 1, argv + 1);
    }
    usage(stderr);
    return EXIT_USAGE;
}
