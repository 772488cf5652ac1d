/*
 * store_fault: a full disk on demand, for tests where a small
 * filesystem cannot be mounted (a container without CAP_SYS_ADMIN).
 * Built only with -DALERTBRIDGE_FAULT_INJECTION=ON, never in a
 * production build; internal to the store.
 *
 * When the environment names a flag file in ALERTBRIDGE_FAULT_DISK_FULL,
 * the store opens its database through an SQLite VFS that wraps the
 * default one. While the flag file exists, every write that would make
 * a file longer fails with SQLITE_FULL, as on a full filesystem, where
 * blocks already allocated can still be written over; remove the file
 * and space has returned.
 */
#ifndef ALERTBRIDGE_STORE_FAULT_H
#define ALERTBRIDGE_STORE_FAULT_H

#define STORE_FAULT_ENV "ALERTBRIDGE_FAULT_DISK_FULL"

/*
 * The name of the VFS to open the database with, or NULL (the default
 * VFS) when the environment asks for no fault.
 */
const char *store_fault_vfs(void);

#endif
