/*
 * page-cache — the page cache of the regular files under some directories,
 * for bench/image-bench.sh.
 *
 *   page-cache resident DIR...   prints the bytes of those files that are in
 *                                the page cache now (mincore(2))
 *   page-cache evict DIR...      writes back and drops those files' pages
 *                                (syncfs of each DIR's filesystem, then
 *                                POSIX_FADV_DONTNEED on every file), so
 *                                that the next read of them comes from disk
 *
 * Only these files' pages are dropped, never the machine's cache as a whole
 * (no drop_caches); syncfs writes back the filesystem's dirty pages, which
 * does no harm and is faster than one fdatasync per file.  The walk does
 * not follow symbolic links or cross into other mounts (a bundle's overlayfs
 * rootfs is not walked: its files are the layers'), and a file with several
 * links is counted once.  Pages that something holds (mapped, locked) may
 * stay; `resident' after `evict' says how much did.
 *
 * Part of `make bench` (bench/image-bench.sh builds it with cc).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static bool evicting;
static uint64_t resident_bytes;
static long page_size;

/* The inodes seen, so that a hard-linked file counts once: an open-addressing
 * set of (dev, ino), grown at half full. */
static struct inode_key { dev_t dev; ino_t ino; bool used; } *seen;
static size_t seen_cap, seen_len;

static size_t slot_of(dev_t dev, ino_t ino, size_t cap)
{
	uint64_t h = ((uint64_t)ino * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)dev;
	return (size_t)(h & (cap - 1));
}

/* Whether (dev, ino) was seen before; remembers it. */
static bool seen_before(dev_t dev, ino_t ino)
{
	if (seen_len * 2 >= seen_cap) {
		size_t cap = seen_cap ? seen_cap * 2 : 4096;
		struct inode_key *grown = calloc(cap, sizeof(*grown));
		if (grown == NULL) {
			perror("page-cache: calloc");
			exit(2);
		}
		for (size_t i = 0; i < seen_cap; i++) {
			if (!seen[i].used)
				continue;
			size_t s = slot_of(seen[i].dev, seen[i].ino, cap);
			while (grown[s].used)
				s = (s + 1) & (cap - 1);
			grown[s] = seen[i];
		}
		free(seen);
		seen = grown;
		seen_cap = cap;
	}
	size_t s = slot_of(dev, ino, seen_cap);
	for (; seen[s].used; s = (s + 1) & (seen_cap - 1))
		if (seen[s].dev == dev && seen[s].ino == ino)
			return true;
	seen[s] = (struct inode_key){dev, ino, true};
	seen_len++;
	return false;
}

/* The resident bytes of an open file of size bytes. */
static uint64_t resident_of(int fd, off_t size, const char *path)
{
	size_t pages = ((size_t)size + (size_t)page_size - 1) / (size_t)page_size;
	void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "page-cache: mmap `%s`: %s\n", path, strerror(errno));
		return 0;
	}
	unsigned char *vec = malloc(pages);
	uint64_t n = 0;
	if (vec && mincore(map, (size_t)size, vec) == 0) {
		for (size_t i = 0; i < pages; i++)
			n += vec[i] & 1;
	} else {
		fprintf(stderr, "page-cache: mincore `%s`: %s\n", path, strerror(errno));
	}
	free(vec);
	munmap(map, (size_t)size);
	return n * (uint64_t)page_size;
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type != FTW_F || !S_ISREG(st->st_mode) || st->st_size == 0)
		return 0;
	if (seen_before(st->st_dev, st->st_ino))
		return 0;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "page-cache: open `%s`: %s\n", path, strerror(errno));
		return 0;
	}
	if (evicting) {
		int rc = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		if (rc != 0)
			fprintf(stderr, "page-cache: fadvise `%s`: %s\n", path, strerror(rc));
	} else {
		resident_bytes += resident_of(fd, st->st_size, path);
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3 || (strcmp(argv[1], "resident") != 0 && strcmp(argv[1], "evict") != 0)) {
		fputs("usage: page-cache resident|evict DIR...\n", stderr);
		return 2;
	}
	evicting = strcmp(argv[1], "evict") == 0;
	page_size = sysconf(_SC_PAGESIZE);
	for (int i = 2; i < argc; i++) {
		/* DONTNEED drops clean pages only: write the dirty ones first. */
		if (evicting) {
			int dir = open(argv[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (dir < 0 || syncfs(dir) < 0) {
				fprintf(stderr, "page-cache: syncfs `%s`: %s\n", argv[i], strerror(errno));
				return 2;
			}
			close(dir);
		}
		if (nftw(argv[i], visit, 64, FTW_PHYS | FTW_MOUNT) != 0) {
			fprintf(stderr, "page-cache: walk `%s`: %s\n", argv[i], strerror(errno));
			return 2;
		}
	}
	if (!evicting)
		printf("%llu\n", (unsigned long long)resident_bytes);
	return 0;
}
