/*
 * store_fault: an SQLite VFS that forwards every call to the default
 * one, failing writes that grow a file while the flag file exists.
 */
#include "store_fault.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#define FAULT_VFS_NAME "alertbridge-fault"

/* An open file: ours first, the default VFS's own right after it. */
struct fault_file {
	sqlite3_file base;
	sqlite3_io_methods methods;
	sqlite3_file *real;
};

static sqlite3_vfs fault_vfs;
static sqlite3_vfs *real_vfs;
static const char *flag_path;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int registered;

static sqlite3_file *real_of(sqlite3_file *file)
{
	return ((struct fault_file *)file)->real;
}

static int disk_full(void)
{
	return access(flag_path, F_OK) == 0;
}

static int fault_close(sqlite3_file *file)
{
	sqlite3_file *real = real_of(file);

	return real->pMethods ? real->pMethods->xClose(real) : SQLITE_OK;
}

static int fault_read(sqlite3_file *file, void *buf, int amount,
		      sqlite3_int64 offset)
{
	sqlite3_file *real = real_of(file);

	return real->pMethods->xRead(real, buf, amount, offset);
}

static int fault_write(sqlite3_file *file, const void *buf, int amount,
		       sqlite3_int64 offset)
{
	sqlite3_file *real = real_of(file);
	sqlite3_int64 size = 0;

	if (disk_full() &&
	    real->pMethods->xFileSize(real, &size) == SQLITE_OK &&
	    offset + amount > size)
		return SQLITE_FULL;
	return real->pMethods->xWrite(real, buf, amount, offset);
}

static int fault_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	sqlite3_file *real = real_of(file);

	return real->pMethods->xTruncate(real, size);
}

static int fault_sync(sqlite3_file *file, int flags)
{
	sqlite3_file *real = real_of(file);

	return real->pMethods->xSync(real, flags);
}

static int fault_file_size(sqlite3_file *file, sqlite3_int64 *ret_size)
{
	sqlite3_file *real = real_of(file);

	return real->pMethods->xFileSize(real, ret_size);
}

static int fault_lock(sqlite3_file *file, int lock)
{
	sqlite3_file *real = real_of(file);

	return real->pMethods->xLock(real, lock);
}

static int fault_unlock(sqlite3_file *file, int lock)
{
	sqlite3_file *real = real_of(file);

	return real->pMethods->xUnlock(real, lock);
}

static int fault_check_reserved(sqlite3_file *file, int *ret_out)
{
	sqlite3_file *real = real_of(file);

	return real->pMethods->xCheckReservedLock(real, ret_out);
}

static int fault_file_control(sqlite3_file *file, int op, void *arg)
{
	sqlite3_file *real = real_of(file);

	return real->pMethods->xFileControl(real, op, arg);
}

static int fault_sector_size(sqlite3_file *file)
{
	sqlite3_file *real = real_of(file);

	return real->pMethods->xSectorSize(real);
}

static int fault_device_characteristics(sqlite3_file *file)
{
	sqlite3_file *real = real_of(file);

	return real->pMethods->xDeviceCharacteristics(real);
}

static int fault_shm_map(sqlite3_file *file, int region, int size, int extend,
			 void volatile **ret_map)
{
	sqlite3_file *real = real_of(file);

	return real->pMethods->xShmMap(real, region, size, extend, ret_map);
}

static int fault_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	sqlite3_file *real = real_of(file);

	return real->pMethods->xShmLock(real, offset, n, flags);
}

static void fault_shm_barrier(sqlite3_file *file)
{
	sqlite3_file *real = real_of(file);

	real->pMethods->xShmBarrier(real);
}

static int fault_shm_unmap(sqlite3_file *file, int delete_flag)
{
	sqlite3_file *real = real_of(file);

	return real->pMethods->xShmUnmap(real, delete_flag);
}

static int fault_fetch(sqlite3_file *file, sqlite3_int64 offset, int amount,
		       void **ret_page)
{
	sqlite3_file *real = real_of(file);

	return real->pMethods->xFetch(real, offset, amount, ret_page);
}

static int fault_unfetch(sqlite3_file *file, sqlite3_int64 offset, void *page)
{
	sqlite3_file *real = real_of(file);

	return real->pMethods->xUnfetch(real, offset, page);
}

/* Our methods, as many of them as the default VFS's file has. */
static void methods_for(struct fault_file *f)
{
	const sqlite3_io_methods *m = f->real->pMethods;

	f->methods = (sqlite3_io_methods){
		.iVersion = m->iVersion,
		.xClose = fault_close,
		.xRead = fault_read,
		.xWrite = fault_write,
		.xTruncate = fault_truncate,
		.xSync = fault_sync,
		.xFileSize = fault_file_size,
		.xLock = fault_lock,
		.xUnlock = fault_unlock,
		.xCheckReservedLock = fault_check_reserved,
		.xFileControl = fault_file_control,
		.xSectorSize = fault_sector_size,
		.xDeviceCharacteristics = fault_device_characteristics,
	};
	if (m->iVersion >= 2) {
		f->methods.xShmMap = fault_shm_map;
		f->methods.xShmLock = fault_shm_lock;
		f->methods.xShmBarrier = fault_shm_barrier;
		f->methods.xShmUnmap = fault_shm_unmap;
	}
	if (m->iVersion >= 3) {
		f->methods.xFetch = fault_fetch;
		f->methods.xUnfetch = fault_unfetch;
	}
}

static int fault_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file,
		      int flags, int *ret_flags)
{
	struct fault_file *f = (struct fault_file *)file;
	int rc;

	f->real = (sqlite3_file *)(f + 1);
	f->real->pMethods = NULL;
	rc = real_vfs->xOpen(real_vfs, name, f->real, flags, ret_flags);

	/* SQLite closes a file whose methods are set, even after a failed
	 * open: set ours only when the default VFS set its own. */
	if (f->real->pMethods) {
		methods_for(f);
		f->base.pMethods = &f->methods;
	} else {
		f->base.pMethods = NULL;
	}
	return rc;
}

static void fault_register(void)
{
	real_vfs = sqlite3_vfs_find(NULL);
	if (!real_vfs)
		return;

	/* The default VFS's other calls take no state of their own from the
	 * VFS object beyond pAppData, which the copy keeps. */
	fault_vfs = *real_vfs;
	fault_vfs.szOsFile =
		(int)sizeof(struct fault_file) + real_vfs->szOsFile;
	fault_vfs.zName = FAULT_VFS_NAME;
	fault_vfs.pNext = NULL;
	fault_vfs.xOpen = fault_open;
	registered = sqlite3_vfs_register(&fault_vfs, 0) == SQLITE_OK;
}

const char *store_fault_vfs(void)
{
	flag_path = getenv(STORE_FAULT_ENV);
	if (!flag_path || !*flag_path)
		return NULL;

	pthread_once(&once, fault_register);
	return registered ? FAULT_VFS_NAME : NULL;
}
