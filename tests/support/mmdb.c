#include "support/mmdb.h"

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/testdata.h"

#define MMDB_ARGS_MAX 32

int mmdb_test_write(const char *path, const char *const *networks)
{
    const char *source = testdata_source_dir();
    if (source == NULL) {
        return -1;
    }
    /* execvp takes char *: the arguments are copied into writable storage. */
    static char text[MMDB_ARGS_MAX + 3][256];
    char *argv[MMDB_ARGS_MAX + 4] = { NULL };
    (void)snprintf(text[0], sizeof(text[0]), "python3");
    (void)snprintf(text[1], sizeof(text[1]), "%s/tests/it/tools/mmdb_write.py", source);
    (void)snprintf(text[2], sizeof(text[2]), "%s", path);
    size_t argc = 3;
    for (size_t i = 0; networks[i] != NULL && i < MMDB_ARGS_MAX; i++) {
        (void)snprintf(text[argc], sizeof(text[argc]), "%s", networks[i]);
        argc++;
    }
    for (size_t i = 0; i < argc; i++) {
        argv[i] = text[i];
    }
    pid_t pid = fork();
    if (pid == -1) {
        return -1;
    }
    if (pid == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) {
        return -1;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}
