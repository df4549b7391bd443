"""C programs batch 49 compiles with gcc and runs, the broken projects it hands to gcc and make, and a local HTTP
server that answers with a large body (so a download can fill a tiny tmpfs).

* `netprobe`: plain BSD sockets as small C daemons and health checkers write them: `getaddrinfo` (errors via
  `gai_strerror`), a non-blocking `connect` with a `poll` deadline, `SO_RCVTIMEO` read timeouts, `send` with
  `MSG_NOSIGNAL`, errors printed with `strerror(errno)`.
* `filetool`: file chores with stdio and POSIX calls (`fopen`, `open`/`write`, `mkdir`, `rmdir`, `rename`,
  `malloc`), errors printed with `perror` or `strerror`.
* `worker`: data-processing code with defects (NULL dereference, a failed `assert`, division by zero, unbounded
  recursion, a double `free`), killed by a signal that the shell reports.
* `memcheck` / `ubcheck`: defects caught by AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer.
* `fetch` (libcurl easy API, `CURLOPT_FAILONERROR`), `pgq` (libpq), `sq` (sqlite3 C API), `rq` (hiredis) and
  `tlsprobe` (OpenSSL `SSL_connect`): clients printing their library's own error strings.
"""

from __future__ import annotations

import http.server
import subprocess
import threading
from pathlib import Path
from typing import Any

from common import Env

NETPROBE = r'''
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int dial(const char *host, const char *port, int timeout_ms, int quiet) {
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "netprobe: cannot resolve %s:%s: %s\n", host, port, gai_strerror(rc));
        exit(2);
    }
    int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (fd < 0) {
        perror("netprobe: socket");
        exit(3);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    int err = 0;
    if (connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
        if (errno != EINPROGRESS) {
            err = errno;
        } else {
            struct pollfd p = {fd, POLLOUT, 0};
            int n = poll(&p, 1, timeout_ms);
            if (n == 0) {
                err = ETIMEDOUT;
            } else {
                socklen_t len = sizeof err;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
            }
        }
    }
    freeaddrinfo(res);
    if (err != 0) {
        close(fd);
        if (quiet) {
            errno = err;
            return -1;
        }
        fprintf(stderr, "netprobe: connect to %s port %s failed: %s\n", host, port, strerror(err));
        exit(1);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: netprobe ping|get|push|fanout|retry HOST PORT [ARG]\n");
        return 64;
    }
    const char *cmd = argv[1], *host = argv[2], *port = argv[3];
    if (strcmp(cmd, "ping") == 0) {
        int fd = dial(host, port, 1500, 0);
        printf("%s:%s is up\n", host, port);
        close(fd);
        return 0;
    }
    if (strcmp(cmd, "retry") == 0) {
        int attempts = argc > 4 ? atoi(argv[4]) : 3;
        for (int i = 1; i <= attempts; i++) {
            int fd = dial(host, port, 1000, 1);
            if (fd >= 0) {
                close(fd);
                return 0;
            }
            fprintf(stderr, "netprobe: attempt %d/%d: connect(%s:%s): %s\n", i, attempts, host, port,
                    strerror(errno));
            usleep(100000);
        }
        fprintf(stderr, "netprobe: giving up on %s:%s after %d attempts\n", host, port, attempts);
        return 1;
    }
    if (strcmp(cmd, "get") == 0) {
        int fd = dial(host, port, 1200, 0);
        char req[512];
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
                 argc > 4 ? argv[4] : "/", host);
        if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
            fprintf(stderr, "netprobe: send to %s:%s: %s\n", host, port, strerror(errno));
            return 1;
        }
        char buf[4096];
        for (;;) {
            ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n == 0)
                break;
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    fprintf(stderr, "netprobe: read from %s:%s timed out after 1200 ms (%s)\n", host, port,
                            strerror(errno));
                else
                    fprintf(stderr, "netprobe: recv from %s:%s: %s\n", host, port, strerror(errno));
                return 1;
            }
            fwrite(buf, 1, (size_t)n, stdout);
        }
        return 0;
    }
    if (strcmp(cmd, "push") == 0) {
        int fd = dial(host, port, 1500, 0);
        long total = (argc > 4 ? atol(argv[4]) : 1024) * 1024;
        static char chunk[65536];
        memset(chunk, 'x', sizeof chunk);
        for (long sent = 0; sent < total;) {
            ssize_t n = send(fd, chunk, sizeof chunk, MSG_NOSIGNAL);
            if (n < 0) {
                fprintf(stderr, "netprobe: upload to %s:%s failed after %ld bytes: %s\n", host, port, sent,
                        strerror(errno));
                return 1;
            }
            sent += n;
            usleep(20000);
        }
        return 0;
    }
    if (strcmp(cmd, "fanout") == 0) {
        int n = argc > 4 ? atoi(argv[4]) : 64;
        for (int i = 0; i < n; i++) {
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            if (fd < 0) {
                fprintf(stderr, "netprobe: opening connection %d of %d: socket: %s\n", i + 1, n, strerror(errno));
                return 1;
            }
        }
        return 0;
    }
    fprintf(stderr, "netprobe: unknown command %s\n", cmd);
    return 64;
}
'''

FILETOOL = r'''
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int show(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "filetool: cannot open %s: %s\n", path, strerror(errno));
        return 1;
    }
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, stdout);
    if (ferror(f)) {
        fprintf(stderr, "filetool: error reading %s: %s\n", path, strerror(errno));
        fclose(f);
        return 1;
    }
    fclose(f);
    return 0;
}

static int load_config(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 1;
    }
    fclose(f);
    return 0;
}

static int write_file(const char *path, long bytes) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        fprintf(stderr, "filetool: open(\"%s\", O_WRONLY|O_CREAT): %s\n", path, strerror(errno));
        return 1;
    }
    static char chunk[8192];
    memset(chunk, 'a', sizeof chunk);
    for (long done = 0; done < bytes;) {
        ssize_t n = write(fd, chunk, sizeof chunk);
        if (n < 0) {
            fprintf(stderr, "filetool: write %s: %s (%ld of %ld bytes written)\n", path, strerror(errno), done,
                    bytes);
            close(fd);
            return 1;
        }
        done += n;
    }
    if (close(fd) < 0) {
        fprintf(stderr, "filetool: close %s: %s\n", path, strerror(errno));
        return 1;
    }
    return 0;
}

static int open_all(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "filetool: opendir %s: %s\n", dir, strerror(errno));
        return 1;
    }
    struct dirent *e;
    int count = 0;
    char path[4096];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (open(path, O_RDONLY) < 0) {
            fprintf(stderr, "filetool: open %s (after %d shards): %s\n", path, count, strerror(errno));
            return 1;
        }
        count++;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: filetool CMD ARGS\n");
        return 64;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "show") == 0)
        return show(argv[2]);
    if (strcmp(cmd, "load-config") == 0)
        return load_config(argv[2]);
    if (strcmp(cmd, "write") == 0)
        return write_file(argv[2], argc > 3 ? atol(argv[3]) : 4096);
    if (strcmp(cmd, "mkdir") == 0) {
        if (mkdir(argv[2], 0755) < 0) {
            fprintf(stderr, "filetool: mkdir %s: %s\n", argv[2], strerror(errno));
            return 1;
        }
        return 0;
    }
    if (strcmp(cmd, "rmdir") == 0) {
        if (rmdir(argv[2]) < 0) {
            fprintf(stderr, "filetool: cannot remove directory %s: %s\n", argv[2], strerror(errno));
            return 1;
        }
        return 0;
    }
    if (strcmp(cmd, "move") == 0 && argc > 3) {
        if (rename(argv[2], argv[3]) < 0) {
            fprintf(stderr, "filetool: rename %s -> %s: %s\n", argv[2], argv[3], strerror(errno));
            return 1;
        }
        return 0;
    }
    if (strcmp(cmd, "open-all") == 0)
        return open_all(argv[2]);
    if (strcmp(cmd, "alloc") == 0) {
        size_t mib = strtoul(argv[2], NULL, 10);
        char *p = malloc(mib << 20);
        if (!p) {
            fprintf(stderr, "filetool: malloc(%zu) failed: %s\n", mib << 20, strerror(errno));
            return 1;
        }
        memset(p, 0, mib << 20);
        return 0;
    }
    if (strcmp(cmd, "load-index") == 0) {
        size_t blocks = strtoul(argv[2], NULL, 10), i;
        for (i = 0; i < blocks; i++) {
            char *block = malloc(16u << 20);
            if (!block) {
                fprintf(stderr, "filetool: fatal: out of memory loading index (%zu MiB allocated)\n", i * 16);
                return 1;
            }
            memset(block, 1, 16u << 20);
        }
        return 0;
    }
    fprintf(stderr, "filetool: unknown command %s\n", cmd);
    return 64;
}
'''

WORKER = r'''
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct job {
    const char *name;
    int retries;
};

static struct job *find_job(const char *name) {
    (void)name;
    return NULL;
}

static int process_batch(const int *items, int batch_size) {
    assert(batch_size > 0 && "batch size must be positive");
    int sum = 0;
    for (int i = 0; i < batch_size; i++)
        sum += items[i];
    return sum;
}

static long depth(long n) {
    volatile char frame[256];
    frame[0] = (char)n;
    return depth(n + 1) + frame[0];
}

int main(int argc, char **argv) {
    const char *cmd = argc > 1 ? argv[1] : "";
    if (strcmp(cmd, "retries") == 0) {
        struct job *j = find_job("nightly-export");
        printf("retries: %d\n", j->retries);
    } else if (strcmp(cmd, "batch") == 0) {
        int items[4] = {1, 2, 3, 4};
        printf("%d\n", process_batch(items, argc > 2 ? atoi(argv[2]) : 0));
    } else if (strcmp(cmd, "average") == 0) {
        int total = 120, count = argc > 2 ? atoi(argv[2]) : 0;
        printf("%d\n", total / count);
    } else if (strcmp(cmd, "tree") == 0) {
        printf("%ld\n", depth(0));
    } else if (strcmp(cmd, "release") == 0) {
        char *buf = malloc(64);
        strcpy(buf, "release-49");
        free(buf);
        free(buf);
    }
    return 0;
}
'''

MEMCHECK = r'''
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *copy_name(const char *src) {
    char *dst = malloc(strlen(src));
    strcpy(dst, src);
    return dst;
}

static int sum(const int *v, int n) {
    int s = 0;
    for (int i = 0; i <= n; i++)
        s += v[i];
    return s;
}

int main(int argc, char **argv) {
    const char *cmd = argc > 1 ? argv[1] : "";
    if (strcmp(cmd, "name") == 0) {
        char *name = copy_name("deploy-worker-49");
        puts(name);
        free(name);
    } else if (strcmp(cmd, "session") == 0) {
        char *token = malloc(32);
        strcpy(token, "session-49");
        free(token);
        printf("%c\n", token[0]);
    } else if (strcmp(cmd, "sum") == 0) {
        int v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
        printf("%d\n", sum(v, 8));
    } else if (strcmp(cmd, "cache") == 0) {
        for (int i = 0; i < 10; i++) {
            char *entry = malloc(128);
            snprintf(entry, 128, "entry-%d", i);
        }
        return 0;
    }
    return 0;
}
'''

UBCHECK = r'''
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    int bytes = argc > 1 ? atoi(argv[1]) : INT_MAX;
    int total = bytes + 4096;
    printf("%d\n", total);
    return 0;
}
'''

FETCH = r'''
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int write_errno = 0;

static size_t save(char *data, size_t size, size_t nmemb, void *userp) {
    size_t n = fwrite(data, size, nmemb, (FILE *)userp);
    if (n == nmemb && fflush((FILE *)userp) == 0)
        return n * size;
    write_errno = errno;
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: fetch URL [OUTFILE]\n");
        return 64;
    }
    const char *url = argv[1];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *curl = curl_easy_init();
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "fetch/1.3 libcurl");
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 1500L);
    const char *timeout = getenv("FETCH_TIMEOUT_MS");
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout ? atol(timeout) : 3000L);
    const char *ca = getenv("FETCH_CAFILE");
    if (ca)
        curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
    struct curl_slist *headers = NULL;
    const char *token = getenv("FETCH_TOKEN");
    if (token) {
        char h[256];
        snprintf(h, sizeof h, "Authorization: Bearer %s", token);
        headers = curl_slist_append(headers, h);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    }
    FILE *out = stdout;
    if (argc > 2) {
        out = fopen(argv[2], "wb");
        if (!out) {
            fprintf(stderr, "fetch: cannot open %s: %s\n", argv[2], strerror(errno));
            return 1;
        }
    }
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, save);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        fprintf(stderr, "fetch: GET %s failed: %s (curl error %d)\n", url, curl_easy_strerror(rc), (int)rc);
        if (errbuf[0])
            fprintf(stderr, "fetch: %s\n", errbuf);
        if (status)
            fprintf(stderr, "fetch: last HTTP status %ld\n", status);
        if (write_errno)
            fprintf(stderr, "fetch: writing %s: %s\n", argc > 2 ? argv[2] : "stdout", strerror(write_errno));
        return 1;
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return 0;
}
'''

PGQ = r'''
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static PGconn *connect_or_die(const char *conninfo) {
    PGconn *conn = PQconnectdb(conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "pgq: connection to database failed: %s", PQerrorMessage(conn));
        PQfinish(conn);
        exit(2);
    }
    return conn;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: pgq CONNINFO SQL... | pgq --hold N CONNINFO\n");
        return 64;
    }
    if (strcmp(argv[1], "--hold") == 0) {
        int n = atoi(argv[2]);
        for (int i = 0; i < n; i++)
            connect_or_die(argv[3]);
        connect_or_die(argv[3]);
        return 0;
    }
    PGconn *conn = connect_or_die(argv[1]);
    for (int i = 2; i < argc; i++) {
        PGresult *res = PQexec(conn, argv[i]);
        ExecStatusType st = PQresultStatus(res);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            fprintf(stderr, "pgq: statement %d failed (SQLSTATE %s): %s", i - 1, state ? state : "?",
                    PQerrorMessage(conn));
            PQclear(res);
            PQfinish(conn);
            return 1;
        }
        PQclear(res);
    }
    PQfinish(conn);
    return 0;
}
'''

SQ = r'''
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: sq [--hold SECS|--no-create] DB SQL\n");
        return 64;
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, hold = 0, a = 1;
    if (strcmp(argv[a], "--hold") == 0) {
        hold = atoi(argv[a + 1]);
        a += 2;
    } else if (strcmp(argv[a], "--no-create") == 0) {
        flags = SQLITE_OPEN_READWRITE;
        a += 1;
    }
    const char *path = argv[a];
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        fprintf(stderr, "sq: cannot open database %s: %s\n", path, sqlite3_errmsg(db));
        return 1;
    }
    sqlite3_busy_timeout(db, 300);
    if (hold) {
        char *err = NULL;
        if (sqlite3_exec(db, "BEGIN EXCLUSIVE; INSERT INTO jobs(name) VALUES ('holder');", NULL, NULL, &err)) {
            fprintf(stderr, "sq: hold: %s\n", err);
            return 1;
        }
        sleep((unsigned)hold);
        sqlite3_exec(db, "COMMIT;", NULL, NULL, NULL);
        sqlite3_close(db);
        return 0;
    }
    char *err = NULL;
    if (sqlite3_exec(db, argv[a + 1], NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "sq: %s: %s (extended code %d)\n", path, err ? err : sqlite3_errmsg(db),
                sqlite3_extended_errcode(db));
        sqlite3_free(err);
        sqlite3_close(db);
        return 1;
    }
    sqlite3_close(db);
    return 0;
}
'''

RQ = r'''
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    int a = 1;
    const char *password = NULL;
    if (argc > 2 && strcmp(argv[1], "-a") == 0) {
        password = argv[2];
        a = 3;
    }
    if (argc - a < 2) {
        fprintf(stderr, "usage: rq [-a PASSWORD] PORT CMD [ARGS...]\n");
        return 64;
    }
    int port = atoi(argv[a]);
    struct timeval tv = {1, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (c == NULL || c->err) {
        fprintf(stderr, "rq: cannot connect to redis at 127.0.0.1:%d: %s\n", port, c ? c->errstr : "out of memory");
        return 2;
    }
    redisSetTimeout(c, tv);
    if (password) {
        redisReply *r = redisCommand(c, "AUTH %s", password);
        if (r == NULL) {
            fprintf(stderr, "rq: AUTH: %s\n", c->errstr);
            return 2;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            fprintf(stderr, "rq: AUTH failed: %s\n", r->str);
            return 2;
        }
        freeReplyObject(r);
    }
    redisReply *r = redisCommandArgv(c, argc - a - 1, (const char **)&argv[a + 1], NULL);
    if (r == NULL) {
        fprintf(stderr, "rq: %s: I/O error: %s\n", argv[a + 1], c->errstr);
        return 1;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "rq: %s %s: %s\n", argv[a + 1], argc - a > 2 ? argv[a + 2] : "", r->str);
        return 1;
    }
    freeReplyObject(r);
    redisFree(c);
    return 0;
}
'''

TLSPROBE = r'''
#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: tlsprobe HOST PORT [CAFILE] [NAME]\n");
        return 64;
    }
    const char *host = argv[1], *port = argv[2];
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc) {
        fprintf(stderr, "tlsprobe: %s: %s\n", host, gai_strerror(rc));
        return 2;
    }
    int fd = socket(res->ai_family, res->ai_socktype, 0);
    if (connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
        fprintf(stderr, "tlsprobe: connect %s:%s: %s\n", host, port, strerror(errno));
        return 2;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (argc > 3 && argv[3][0])
        SSL_CTX_load_verify_locations(ctx, argv[3], NULL);
    else
        SSL_CTX_set_default_verify_paths(ctx);
    SSL *ssl = SSL_new(ctx);
    const char *name = argc > 4 ? argv[4] : host;
    SSL_set_tlsext_host_name(ssl, name);
    SSL_set1_host(ssl, name);
    SSL_set_fd(ssl, fd);
    int ret = SSL_connect(ssl);
    if (ret != 1) {
        int kind = SSL_get_error(ssl, ret);
        int saved = errno;
        unsigned long e;
        char buf[256];
        int printed = 0;
        while ((e = ERR_get_error()) != 0) {
            ERR_error_string_n(e, buf, sizeof buf);
            fprintf(stderr, "tlsprobe: SSL_connect to %s:%s failed: %s\n", host, port, buf);
            printed = 1;
        }
        long verify = SSL_get_verify_result(ssl);
        if (verify != X509_V_OK)
            fprintf(stderr, "tlsprobe: certificate verification: %s\n", X509_verify_cert_error_string(verify));
        if (!printed)
            fprintf(stderr, "tlsprobe: SSL_connect to %s:%s failed (SSL_get_error=%d): %s\n", host, port, kind,
                    saved ? strerror(saved) : "unexpected EOF from peer");
        return 1;
    }
    printf("%s\n", SSL_get_version(ssl));
    return 0;
}
'''

#: binary name -> (source, extra gcc flags)
PROGRAMS: dict[str, tuple[str, list[str]]] = {
    "netprobe": (NETPROBE, []),
    "filetool": (FILETOOL, []),
    "worker": (WORKER, ["-g", "-O0"]),
    "memcheck": (MEMCHECK, ["-g", "-O0", "-fsanitize=address", "-fno-omit-frame-pointer"]),
    "ubcheck": (UBCHECK, ["-g", "-O0", "-fsanitize=undefined", "-fno-sanitize-recover=all"]),
    "fetch": (FETCH, ["-lcurl"]),
    "pgq": (PGQ, ["-I/usr/include/postgresql", "-lpq"]),
    "sq": (SQ, ["-lsqlite3"]),
    "rq": (RQ, ["-lhiredis"]),
    "tlsprobe": (TLSPROBE, ["-lssl", "-lcrypto"]),
}


def build(env: Env) -> Path:
    """Compile every program into `<tmp>/bin49` (with the sources next to them); raise if gcc fails."""
    src = env.tmp / "src49"
    bindir = env.tmp / "bin49"
    src.mkdir()
    bindir.mkdir()
    procs = []
    for name, (code, flags) in PROGRAMS.items():
        path = src / f"{name}.c"
        path.write_text(code)
        procs.append((name, subprocess.Popen(["gcc", "-Wall", "-o", str(bindir / name), str(path), *flags],
                                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    for name, proc in procs:
        _, err = proc.communicate(timeout=120)
        if proc.returncode:
            raise RuntimeError(f"harness: building {name} failed: {err[-400:]}")
    bindir.chmod(0o755)
    env.tmp.chmod(0o755)
    return bindir


#: broken projects for gcc and make: name -> {relative path: content}; each is built by `cd <dir> && make` or the
#: gcc command its Makefile (or `BUILD`) names.
BROKEN: dict[str, dict[str, str]] = {
    "gcc_undefined_reference": {
        "checksum.h": "#ifndef CHECKSUM_H\n#define CHECKSUM_H\nunsigned compute_checksum(const char *buf, "
                      "unsigned len);\n#endif\n",
        "main.c": '#include <stdio.h>\n#include <string.h>\n#include "checksum.h"\n\nint main(void) {\n'
                  '    const char *payload = "release-49";\n    printf("%08x\\n", compute_checksum(payload, '
                  '(unsigned)strlen(payload)));\n    return 0;\n}\n',
        "BUILD": "gcc -Wall -o uploader main.c",
    },
    "gcc_implicit_declaration": {
        "main.c": '#include <stdio.h>\n\nint main(int argc, char **argv) {\n    int port = parse_port(argc > 1 ? '
                  'argv[1] : "8080");\n    printf("listening on %d\\n", port);\n    return 0;\n}\n',
        "BUILD": "gcc -std=gnu11 -Wall -Werror=implicit-function-declaration -c main.c -o main.o",
    },
    "gcc_missing_header": {
        "main.c": '#include <stdio.h>\n#include "protocol/frame.h"\n\nint main(void) {\n    struct frame f = '
                  'frame_new(7);\n    printf("%d\\n", f.id);\n    return 0;\n}\n',
        "BUILD": "gcc -Wall -Iinclude -c main.c -o main.o",
    },
    "make_undeclared_identifier": {
        "Makefile": "CFLAGS = -Wall -O2\n\nbuild/agent: build/agent.o\n\t$(CC) -o $@ $^\n\nbuild/agent.o: "
                    "src/agent.c\n\tmkdir -p build\n\t$(CC) $(CFLAGS) -c $< -o $@\n",
        "src/agent.c": "#include <stdio.h>\n\nint main(void) {\n    for (int i = 0; i < MAX_WORKERS; i++)\n"
                       '        printf("worker %d\\n", i);\n    return 0;\n}\n',
        "BUILD": "make",
    },
    "make_multiple_definition": {
        "Makefile": "CFLAGS = -Wall -O2 -fno-common\nOBJS = main.o config.o log.o\n\nservice: $(OBJS)\n\t"
                    "$(CC) -o $@ $(OBJS)\n",
        "config.h": "#ifndef CONFIG_H\n#define CONFIG_H\nint verbose = 0;\nvoid load_config(void);\n"
                    "void log_line(const char *s);\n#endif\n",
        "main.c": '#include "config.h"\nint main(void) { load_config(); log_line("up"); return 0; }\n',
        "config.c": '#include "config.h"\nvoid load_config(void) { verbose = 1; }\n',
        "log.c": '#include <stdio.h>\n#include "config.h"\nvoid log_line(const char *s) { if (verbose) '
                 'puts(s); }\n',
        "BUILD": "make",
    },
    "make_missing_libcurl_link": {
        "Makefile": "CFLAGS = -Wall\n\nnotify: notify.c\n\t$(CC) $(CFLAGS) -o $@ $<\n",
        "notify.c": '#include <curl/curl.h>\n\nint main(void) {\n    CURL *c = curl_easy_init();\n'
                    '    curl_easy_setopt(c, CURLOPT_URL, "http://127.0.0.1:9/hook");\n'
                    "    curl_easy_perform(c);\n    curl_easy_cleanup(c);\n    return 0;\n}\n",
        "BUILD": "make",
    },
    "gcc_incompatible_pointer": {
        "parse.c": '#include <stdlib.h>\n\nstruct limits { long max_bytes; };\n\nint parse_limits(const char '
                   '*s, struct limits *out) {\n    int *p = &out->max_bytes;\n    *p = atoi(s);\n    return 0;\n}\n',
        "BUILD": "gcc -std=c11 -Wall -Werror -c parse.c -o parse.o",
    },
}


def write_broken(env: Env) -> dict[str, str]:
    """Write each broken project under the batch directory; return name -> the build command to run in it."""
    commands: dict[str, str] = {}
    for name, files in BROKEN.items():
        root = env.tmp / name
        for rel, text in files.items():
            if rel == "BUILD":
                commands[name] = f"cd {root} && {text}"
                continue
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
    return commands


class _BlobHandler(http.server.BaseHTTPRequestHandler):
    """Answers every GET with 512 KiB (an artifact download)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        body = b"\x1f\x8b" + b"\0" * (512 * 1024)
        self.send_response(200)
        self.send_header("Content-Type", "application/gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _QuietBlobServer(http.server.ThreadingHTTPServer):
    """A client that gives up mid-download (its disk is full) is expected, not worth a traceback."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


def blob_server(env: Env) -> int:
    """Start the large-body server on a free 127.0.0.1 port; stopped with the batch."""
    server = _QuietBlobServer(("127.0.0.1", 0), _BlobHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.server_close)
    env._closers.append(server.shutdown)
    port: int = server.server_address[1]
    return port


__all__ = ["BROKEN", "PROGRAMS", "blob_server", "build", "write_broken"]
