/* tests/unit/test.h: a small TAP runner. Each test runs in its own process
 * (a crash fails that test only); a test fails at its first failed CHECK.
 * The last line printed is "N passed, N failed".
 *
 *   TEST(parses_defaults) { CHECK(x == 1); }
 *   TEST_MAIN(T(parses_defaults), T(...))
 */
#ifndef TEST_H
#define TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct test_case {
    const char *name;
    void (*fn)(void);
};

static int test_failed_flag;

#define TEST(name) static void name(void)
#define T(name)                                                                                    \
    {                                                                                              \
#name, name                                                                                \
    }
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "# %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);             \
            test_failed_flag = 1;                                                                  \
            return;                                                                                \
        }                                                                                          \
    } while (0)
#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "# %s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);             \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            test_failed_flag = 1;                                                                  \
            return;                                                                                \
        }                                                                                          \
    } while (0)

static inline int test_run(const struct test_case *cases, size_t n)
{
    int passed = 0, failed = 0;
    const char *only = getenv("TEST_ONLY");
    printf("1..%zu\n", n);
    for (size_t i = 0; i < n; i++) {
        if (only && strcmp(only, cases[i].name))
            continue;
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid == 0) {
            test_failed_flag = 0;
            cases[i].fn();
            fflush(stdout);
            _exit(test_failed_flag ? 1 : 0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (!WIFEXITED(status))
            fprintf(stderr, "# %s: killed by signal %d\n", cases[i].name, WTERMSIG(status));
        printf("%s %zu - %s\n", ok ? "ok" : "not ok", i + 1, cases[i].name);
        ok ? passed++ : failed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#define TEST_MAIN(...)                                                                             \
    int main(void)                                                                                 \
    {                                                                                              \
        static const struct test_case cases[] = {__VA_ARGS__};                                     \
        return test_run(cases, sizeof cases / sizeof *cases);                                      \
    }

#endif
