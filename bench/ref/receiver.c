/* The reference receiver of `just bench` line 1: about the least CPU an HTTP ingest of a backup can spend.
 *
 * One connection at a time (keep-alive). A POST's Content-Length body is received into a ring of 4 MiB
 * buffers; one thread hashes them with OpenSSL SHA-256 while another writes them to a temporary file in
 * the target directory, starting each block's writeback (sync_file_range) as soon as it is written. In
 * durable mode the file is then fdatasync'ed, renamed into place and its directory fsync'ed before the
 * JSON 201 goes out; in nosync mode it is only renamed. Any GET answers 200 (the bench's readiness probe).
 *
 * Usage: receiver DIR durable|nosync --port PORT        Build: cc -O2 -pthread receiver.c -lcrypto
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK (4u << 20)
#define RING 4
#define HEAD_MAX 65536

struct slot {
    unsigned char *data;
    size_t len;
    int pending; /* consumers (hasher, writer) yet to finish with it; 0 = free */
};

static struct slot ring[RING];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static size_t filled;   /* blocks handed to the consumers so far, this upload */
static int finished;    /* the receiver has handed over the last block */
static int durable;

struct consumer {
    size_t done;        /* blocks consumed so far, this upload */
    int fd;             /* writer: the temp file */
    off_t offset;
    EVP_MD_CTX *hash;   /* hasher */
    int failed;
};

static void die(const char *what) {
    perror(what);
    exit(1);
}

/* Wait for block `index` (or the end); returns the slot, or NULL once every block was consumed. */
static struct slot *next_block(size_t index) {
    pthread_mutex_lock(&lock);
    while (index >= filled && !finished) pthread_cond_wait(&changed, &lock);
    struct slot *slot = index < filled ? &ring[index % RING] : NULL;
    pthread_mutex_unlock(&lock);
    return slot;
}

static void release(struct slot *slot) {
    pthread_mutex_lock(&lock);
    slot->pending--;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

static void *hasher(void *arg) {
    struct consumer *self = arg;
    struct slot *slot;
    while ((slot = next_block(self->done)) != NULL) {
        EVP_DigestUpdate(self->hash, slot->data, slot->len);
        self->done++;
        release(slot);
    }
    return NULL;
}

static void *writer(void *arg) {
    struct consumer *self = arg;
    struct slot *slot;
    while ((slot = next_block(self->done)) != NULL) {
        size_t written = 0;
        while (!self->failed && written < slot->len) {
            ssize_t n = write(self->fd, slot->data + written, slot->len - written);
            if (n < 0) self->failed = 1;
            else written += (size_t)n;
        }
        if (durable && !self->failed) sync_file_range(self->fd, self->offset, (off_t)slot->len, SYNC_FILE_RANGE_WRITE);
        self->offset += (off_t)slot->len;
        self->done++;
        release(slot);
    }
    return NULL;
}

/* Receive `length` body bytes (the first `have` of them already in `head`) into the file `final`. */
static int ingest(int conn, const char *dir, const char *head, size_t have, size_t length, char *hex, size_t *received) {
    static unsigned long counter;
    char temp[4200], final[4096];
    snprintf(final, sizeof final, "%s/ref-%lu.bin", dir, ++counter);
    snprintf(temp, sizeof temp, "%s#%d", final, getpid());
    struct consumer hash = {0}, file = {0};
    file.fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (file.fd < 0) die("open");
    hash.hash = EVP_MD_CTX_new();
    EVP_DigestInit_ex(hash.hash, EVP_sha256(), NULL);
    filled = 0;
    finished = 0;
    pthread_t threads[2];
    pthread_create(&threads[0], NULL, hasher, &hash);
    pthread_create(&threads[1], NULL, writer, &file);

    size_t total = 0;
    int failed = 0;
    while (total < length && !failed) {
        struct slot *slot = &ring[filled % RING];
        pthread_mutex_lock(&lock);
        while (slot->pending) pthread_cond_wait(&changed, &lock);
        pthread_mutex_unlock(&lock);
        size_t want = length - total < BLOCK ? length - total : BLOCK, len = 0;
        if (have) {
            size_t take = have < want ? have : want;
            memcpy(slot->data, head, take);
            head += take;
            have -= take;
            len = take;
        }
        while (len < want) {
            ssize_t n = recv(conn, slot->data + len, want - len, 0);
            if (n <= 0) {
                failed = 1;
                break;
            }
            len += (size_t)n;
        }
        slot->len = len;
        total += len;
        pthread_mutex_lock(&lock);
        slot->pending = 2;
        filled++;
        pthread_cond_broadcast(&changed);
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    finished = 1;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    pthread_join(threads[0], NULL);
    pthread_join(threads[1], NULL);

    unsigned char digest[32];
    unsigned int digest_len = 0;
    EVP_DigestFinal_ex(hash.hash, digest, &digest_len);
    EVP_MD_CTX_free(hash.hash);
    for (unsigned i = 0; i < 32; i++) sprintf(hex + 2 * i, "%02x", digest[i]);
    if (failed || file.failed) {
        close(file.fd);
        unlink(temp);
        return -1;
    }
    if (durable && fdatasync(file.fd) != 0) die("fdatasync");
    close(file.fd);
    if (rename(temp, final) != 0) die("rename");
    if (durable) {
        int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0 || fsync(dirfd) != 0) die("fsync dir");
        close(dirfd);
    }
    unlink(final); /* the bench keeps nothing: the bytes were on disk when the answer went out */
    *received = total;
    return 0;
}

static int send_all(int conn, const char *data, size_t len) {
    while (len) {
        ssize_t n = send(conn, data, len, MSG_NOSIGNAL);
        if (n <= 0) return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int answer(int conn, int status, const char *body) {
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n", status,
                     status == 201 ? "Created" : status == 200 ? "OK" : "Bad Request", strlen(body));
    return send_all(conn, head, (size_t)n) || send_all(conn, body, strlen(body));
}

static void serve(int conn, const char *dir) {
    static char buffer[HEAD_MAX];
    size_t have = 0;
    for (;;) {
        char *end;
        while ((end = memmem(buffer, have, "\r\n\r\n", 4)) == NULL) {
            if (have == sizeof buffer) return;
            ssize_t n = recv(conn, buffer + have, sizeof buffer - have, 0);
            if (n <= 0) return;
            have += (size_t)n;
        }
        size_t head_len = (size_t)(end - buffer) + 4, length = 0;
        *end = '\0'; /* the head is a string from here; its terminator is no longer needed */
        for (char *line = strstr(buffer, "\r\n"); line; line = strstr(line + 2, "\r\n"))
            if (strncasecmp(line + 2, "content-length:", 15) == 0) length = strtoull(line + 17, NULL, 10);
        size_t extra = have - head_len;
        if (strncmp(buffer, "POST ", 5) != 0) {
            if (answer(conn, 200, "{}")) return;
            memmove(buffer, buffer + head_len, extra);
            have = extra;
            continue;
        }
        size_t body_here = extra < length ? extra : length, received = 0;
        char hex[65], body[256];
        if (ingest(conn, dir, buffer + head_len, body_here, length, hex, &received) != 0) return;
        snprintf(body, sizeof body,
                 "{\"code\":201,\"message\":\"backup stored\",\"data\":{\"size\":%zu,\"sha256\":\"%s\"}}", received, hex);
        if (answer(conn, 201, body)) return;
        memmove(buffer, buffer + head_len + body_here, extra - body_here);
        have = extra - body_here;
    }
}

int main(int argc, char **argv) {
    if (argc != 5 || strcmp(argv[3], "--port") != 0 || (strcmp(argv[2], "durable") && strcmp(argv[2], "nosync"))) {
        fprintf(stderr, "usage: %s DIR durable|nosync --port PORT\n", argv[0]);
        return 2;
    }
    durable = strcmp(argv[2], "durable") == 0;
    for (int i = 0; i < RING; i++)
        if ((ring[i].data = malloc(BLOCK)) == NULL) die("malloc");
    int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[4]))};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, (struct sockaddr *)&address, sizeof address) || listen(listener, 16)) die("listen");
    for (;;) {
        int conn = accept(listener, NULL, NULL);
        if (conn < 0) continue;
        setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        serve(conn, argv[1]);
        close(conn);
    }
}
