/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The allocations on disk: STATE_DIR/passthrud.db, SQLite in WAL mode with synchronous=FULL.
 * An allocation and its devices are written in one transaction, so after kill -9 or a power
 * cut it is either there whole or not at all; the devices' addresses are a primary key, so
 * the database itself refuses to give a device to two allocations.
 *
 * Checkpoints (copying the WAL back into the database file, two more fsyncs) are not made by
 * the commit that fills the WAL, as SQLite does by default, but by a timer of the event loop
 * at idle priority once no commit came for CHECKPOINT_IDLE_USEC: a request never waits for
 * one. Under a load without pauses the WAL still gets a checkpoint once it holds
 * CHECKPOINT_PAGES pages, from the same timer. Durability does not depend on checkpoints: a
 * commit is on the disk once its WAL frames are (synchronous=FULL).
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-event.h>

#define CHECKPOINT_IDLE_USEC (200 * 1000ULL)
/* SQLite's own default for wal_autocheckpoint: about 4 MiB of WAL with 4 KiB pages. */
#define CHECKPOINT_PAGES 1000

#include "passthrud.h"

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    /* See the top of the file: the event loop checkpoints, not the commits. */
    "PRAGMA wal_autocheckpoint=0;"
    /* The database is a few pages per allocation: 64 KiB of page cache hold all of it for
     * thousands (the default is 2 MiB, heap that an idle service would keep). */
    "PRAGMA cache_size=-64;"
    "PRAGMA foreign_keys=ON;"
    "CREATE TABLE IF NOT EXISTS allocations ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  owner TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  adopted INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS allocation_devices ("
    "  address TEXT PRIMARY KEY,"
    "  allocation INTEGER NOT NULL REFERENCES allocations(id) ON DELETE CASCADE,"
    "  iommu_group INTEGER NOT NULL);";

static int store_error(sqlite3 *db, const char *what)
{
	fprintf(stderr, "passthrud: state database: %s: %s\n", what, sqlite3_errmsg(db));
	return -EIO;
}

/* mkdir -p, the last directory 0700 (systemd's StateDirectory= makes it so, too). */
static int make_dirs(const char *dir)
{
	_cleanup_free_ char *p = strdup(dir);

	if (!p)
		return -ENOMEM;
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* What the WAL hook needs; its argument, so that store_close finds it again. */
struct checkpointer {
	sqlite3 *db;
	sd_event_source *timer;
};

static int on_checkpoint(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct checkpointer *c = userdata;
	int wal = 0, copied = 0;

	/* PASSIVE: copies what no reader needs and never waits for one (there are none but us). */
	if (sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &wal, &copied) !=
	    SQLITE_OK)
		fprintf(stderr, "passthrud: state database: checkpoint: %s\n",
			sqlite3_errmsg(c->db));
	return 0;
}

/* After every commit: (re)arm the checkpoint for when the commits pause. */
static int on_wal_commit(void *userdata, sqlite3 *db, const char *name, int pages)
{
	struct checkpointer *c = userdata;
	uint64_t now = 0;
	int enabled = SD_EVENT_OFF;

	sd_event_source_get_enabled(c->timer, &enabled);
	/* A full WAL: leave an armed timer where it is, so that a steady load cannot push the
	 * checkpoint away forever. */
	if (enabled != SD_EVENT_OFF && pages >= CHECKPOINT_PAGES)
		return SQLITE_OK;
	if (sd_event_now(sd_event_source_get_event(c->timer), CLOCK_MONOTONIC, &now) >= 0 &&
	    sd_event_source_set_time(c->timer, now + CHECKPOINT_IDLE_USEC) >= 0)
		sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
	return SQLITE_OK;
}

static void checkpointer_free(struct checkpointer *c)
{
	if (!c)
		return;
	sd_event_source_disable_unref(c->timer);
	free(c);
}

static int checkpointer_new(sd_event *event, sqlite3 *db, struct checkpointer **ret)
{
	struct checkpointer *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->db = db;
	r = sd_event_add_time(event, &c->timer, CLOCK_MONOTONIC, 0, 10 * 1000ULL, on_checkpoint, c);
	if (r >= 0)
		r = sd_event_source_set_priority(c->timer, SD_EVENT_PRIORITY_IDLE);
	if (r >= 0)
		r = sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
	if (r < 0) {
		checkpointer_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

int store_open(sd_event *event, const char *state_dir, sqlite3 **ret)
{
	struct checkpointer *c = NULL;
	_cleanup_free_ char *path = NULL;
	sqlite3 *db = NULL;
	char *err = NULL;
	int r;

	r = make_dirs(state_dir);
	if (r < 0)
		return r;
	if (asprintf(&path, "%s/passthrud.db", state_dir) < 0)
		return -ENOMEM;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "passthrud: %s: %s\n", path, db ? sqlite3_errmsg(db) : "no memory");
		sqlite3_close(db);
		return -EIO;
	}
	/* No lookaside (by default about 120 KiB of heap per connection for small
	 * allocations): the statements here are few and simple. */
	sqlite3_db_config(db, SQLITE_DBCONFIG_LOOKASIDE, NULL, 0, 0);
	/* Another writer (a second passthrud by mistake) holds the lock: wait a little, not
	 * forever. */
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, schema, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "passthrud: %s: %s\n", path, err ?: "?");
		sqlite3_free(err);
		sqlite3_close(db);
		return -EIO;
	}
	/* After the schema: its wal_autocheckpoint=0 takes the WAL hook away, too. */
	r = checkpointer_new(event, db, &c);
	if (r < 0) {
		sqlite3_close(db);
		return r;
	}
	sqlite3_wal_hook(db, on_wal_commit, c);
	*ret = db;
	return 0;
}

void store_close(sqlite3 *db)
{
	if (!db)
		return;
	/* Setting no hook returns the one set, and its argument. sqlite3_close checkpoints. */
	checkpointer_free(sqlite3_wal_hook(db, NULL, NULL));
	sqlite3_close(db);
}

int store_load(sqlite3 *db, struct allocations *ret)
{
	struct allocations all = {};
	sqlite3_stmt *st = NULL;
	int r = 0, s;

	if (sqlite3_prepare_v2(db,
			       "SELECT id, owner, created, adopted FROM allocations ORDER BY id",
			       -1, &st, NULL) != SQLITE_OK)
		return store_error(db, "reading allocations");
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		struct allocation *nv = realloc(all.v, (all.n + 1) * sizeof(*nv));

		if (!nv) {
			r = -ENOMEM;
			break;
		}
		all.v = nv;
		all.v[all.n] = (struct allocation){
		    .id = sqlite3_column_int64(st, 0),
		    .owner = strdup((const char *)sqlite3_column_text(st, 1) ?: ""),
		    .created = sqlite3_column_int64(st, 2),
		    .adopted = sqlite3_column_int(st, 3) != 0,
		};
		if (!all.v[all.n++].owner) {
			r = -ENOMEM;
			break;
		}
	}
	if (r == 0 && s != SQLITE_DONE)
		r = store_error(db, "reading allocations");
	sqlite3_finalize(st);
	st = NULL;
	if (r == 0 && sqlite3_prepare_v2(db,
					 "SELECT allocation, address, iommu_group FROM "
					 "allocation_devices ORDER BY address",
					 -1, &st, NULL) != SQLITE_OK)
		r = store_error(db, "reading allocated devices");
	while (r == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
		struct allocation *a = allocation_find(&all, sqlite3_column_int64(st, 0));

		if (a)
			r = allocation_add_device(a, (const char *)sqlite3_column_text(st, 1) ?: "",
						  sqlite3_column_int(st, 2));
	}
	if (r == 0 && s != SQLITE_DONE)
		r = store_error(db, "reading allocated devices");
	sqlite3_finalize(st);
	if (r < 0) {
		allocations_done(&all);
		return r;
	}
	*ret = all;
	return 0;
}

int store_insert(sqlite3 *db, struct allocation *a)
{
	sqlite3_stmt *st = NULL;
	int r = 0, s;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return store_error(db, "BEGIN");
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO allocations (owner, created, adopted) VALUES (?,?,?)",
			       -1, &st, NULL) != SQLITE_OK) {
		r = store_error(db, "INSERT");
		goto out;
	}
	sqlite3_bind_text(st, 1, a->owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, a->created);
	sqlite3_bind_int(st, 3, a->adopted);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = store_error(db, "INSERT");
		goto out;
	}
	a->id = sqlite3_last_insert_rowid(db);
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO allocation_devices (address, allocation, iommu_group) "
			       "VALUES (?,?,?)",
			       -1, &st, NULL) != SQLITE_OK) {
		r = store_error(db, "INSERT");
		goto out;
	}
	for (size_t i = 0; i < a->n_devices; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, a->devices[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, a->id);
		sqlite3_bind_int(st, 3, a->device_groups[i]);
		s = sqlite3_step(st);
		if (s == SQLITE_CONSTRAINT) {
			r = -EEXIST;
			goto out;
		}
		if (s != SQLITE_DONE) {
			r = store_error(db, "INSERT");
			goto out;
		}
	}
out:
	sqlite3_finalize(st);
	if (r == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		r = store_error(db, "COMMIT");
	if (r < 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

int store_delete(sqlite3 *db, long id)
{
	sqlite3_stmt *st = NULL;
	int r = 0;

	/* ON DELETE CASCADE takes the devices in the same statement, hence the same transaction. */
	if (sqlite3_prepare_v2(db, "DELETE FROM allocations WHERE id = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return store_error(db, "DELETE");
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_DONE)
		r = store_error(db, "DELETE");
	sqlite3_finalize(st);
	return r;
}
