// The few parts of wa-sqlite's untyped example VFS we use.
declare module 'wa-sqlite/src/examples/AccessHandlePoolVFS.js' {
  export class AccessHandlePoolVFS {
    constructor(directoryPath: string)
    readonly isReady: Promise<void>
    get name(): string
    close(): Promise<void>
    getSize(): number
    getCapacity(): number
    addCapacity(n: number): Promise<number>
    xRead(fileId: number, pData: Uint8Array, iOffset: number): number
    xWrite(fileId: number, pData: Uint8Array, iOffset: number): number
    xTruncate(fileId: number, iSize: number): number
    xSync(fileId: number, flags: number): number
  }
}

declare module 'wa-sqlite/src/examples/IDBBatchAtomicVFS.js' {
  export class IDBBatchAtomicVFS {
    constructor(
      idbDatabaseName?: string,
      options?: { durability?: 'default' | 'strict' | 'relaxed'; purge?: 'deferred' | 'manual'; purgeAtLeast?: number },
    )
    readonly name: string
    close(): Promise<void>
  }
}
