/**
 * A storage on a synchronous VFS (the access-handle pool, memory), and whole-file access to its
 * files for export and import through the VFS's own methods, outside SQLite: a file is opened under
 * an id SQLite never uses, read or written whole, and closed again.
 */
import * as SQLite from 'wa-sqlite'
import { SqliteError } from '../protocol/errors.js'
import type { StorageKind } from '../protocol/message-fields.js'
import type { DatabaseStorage } from './database-storage.js'
import type { EmscriptenModule } from './sqlite-builds.js'

/** The VFS methods used directly on a synchronous VFS, as wa-sqlite's VFS defines them. */
export interface RawVfs {
  xOpen(name: string, fileId: number, flags: number, pOutFlags: DataView): number
  xClose(fileId: number): number
  xRead(fileId: number, pData: Uint8Array, iOffset: number): number
  xWrite(fileId: number, pData: Uint8Array, iOffset: number): number
  xTruncate(fileId: number, iSize: number): number
  xSync(fileId: number, flags: number): number
  xFileSize(fileId: number, pSize64: DataView): number
  xDelete(name: string, syncDir: number): number
}

/** A file id SQLite never uses (its ids are memory addresses, which are positive). */
const EXPORT_FILE_ID = -7

/** The storage of `vfs`, a synchronous VFS registered as `vfsName`; `close` lets its files go. */
export function syncStorage(
  kind: StorageKind,
  module: EmscriptenModule,
  sqlite3: SQLiteAPI,
  vfsName: string,
  vfs: RawVfs,
  close: () => Promise<void>,
): DatabaseStorage {
  return {
    kind,
    module,
    sqlite3,
    vfsName,
    close,
    async read(name) {
      const id = EXPORT_FILE_ID
      if (vfs.xOpen(name, id, SQLite.SQLITE_OPEN_MAIN_DB | SQLite.SQLITE_OPEN_READONLY, new DataView(new ArrayBuffer(4))) !== 0) {
        throw new SqliteError(`cannot open ${name} for reading`, SQLite.SQLITE_CANTOPEN)
      }
      try {
        const size = new DataView(new ArrayBuffer(8))
        vfs.xFileSize(id, size)
        const bytes = new Uint8Array(Number(size.getBigInt64(0, true)))
        const rc = vfs.xRead(id, bytes, 0)
        if (rc !== 0) throw new SqliteError(`cannot read ${name}`, rc)
        return bytes
      } finally {
        vfs.xClose(id)
      }
    },
    async write(name, bytes) {
      const id = EXPORT_FILE_ID
      const flags = SQLite.SQLITE_OPEN_MAIN_DB | SQLite.SQLITE_OPEN_READWRITE | SQLite.SQLITE_OPEN_CREATE
      if (vfs.xOpen(name, id, flags, new DataView(new ArrayBuffer(4))) !== 0) {
        throw new SqliteError(`cannot create ${name} (no free file in the pool)`, SQLite.SQLITE_CANTOPEN)
      }
      try {
        let rc = vfs.xTruncate(id, 0)
        if (rc === 0) rc = vfs.xWrite(id, bytes, 0)
        if (rc === 0) rc = vfs.xSync(id, 0)
        if (rc !== 0) throw new SqliteError(`cannot write ${name}`, rc)
      } finally {
        vfs.xClose(id)
      }
    },
    async remove(name) {
      vfs.xDelete(name, 0)
    },
  }
}
