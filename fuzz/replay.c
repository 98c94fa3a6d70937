/*
 * Replays every file of the given folders (or files) through LLVMFuzzerTestOneInput:
 * the corpus runs on every build, with gcc too, without libFuzzer.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    static uint8_t buf[1 << 20];
    size_t len = fread(buf, 1, sizeof(buf), f);
    (void)fclose(f);
    uint8_t *copy = malloc(len == 0 ? 1 : len);
    if (copy == NULL) {
        return 1;
    }
    memcpy(copy, buf, len);
    (void)LLVMFuzzerTestOneInput(copy, len);
    free(copy);
    return 0;
}

static int replay_path(const char *path, unsigned *count)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return replay_file(path);
    }
    DIR *dir = opendir(path);
    if (dir == NULL) {
        perror(path);
        return 1;
    }
    int failed = 0;
    const struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) { /* NOLINT(concurrency-mt-unsafe) */
        if (entry->d_name[0] == '.') {
            continue;
        }
        char child[4096];
        (void)snprintf(child, sizeof(child), "%s/%s", path, entry->d_name);
        if (stat(child, &st) == 0 && S_ISREG(st.st_mode)) {
            (*count)++;
            failed |= replay_file(child);
        }
    }
    (void)closedir(dir);
    return failed;
}

int main(int argc, char **argv)
{
    unsigned count = 0;
    int failed = 0;
    for (int i = 1; i < argc; i++) {
        failed |= replay_path(argv[i], &count);
    }
    (void)printf("replayed %u inputs\n", count);
    return failed;
}
