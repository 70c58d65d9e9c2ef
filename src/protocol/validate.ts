/**
 * Checks on every message received, before it is acted on. A malformed message is dropped by the
 * receiver (never thrown into its event loop), so a stray `postMessage` from any script cannot
 * crash a runtime or wedge a queue.
 */
import {
  PROTOCOL_VERSION,
  type ClientRequest,
  type CoordinatorToTab,
  type CoordinatorToWorker,
  type TabToCoordinator,
  type WorkerToCoordinator,
} from './messages.js'
import { isLineName, type LineRef } from './line.js'

type Obj = Record<string, unknown>

const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null
const isStr = (x: unknown): x is string => typeof x === 'string' && x.length > 0 && x.length < 256
const isInt = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0
/**
 * A joining tab's epoch seeds a restarted coordinator's count. One near 2^53 (from a broken or
 * hostile script) would make every later epoch unsafe and every message carrying it invalid.
 */
const MAX_JOIN_EPOCH = 2 ** 48
const STORAGES = new Set(['opfs-sahpool', 'opfs', 'idb', 'memory'])
const isStorage = (x: unknown): x is string => STORAGES.has(x as string)
const isReason = (x: unknown) => x === undefined || (typeof x === 'string' && x.length < 1000)
const ADMIN = new Set(['export', 'import', 'empty', 'check', 'stats'])
/** A duration a timer can wait: whole milliseconds, 1 to 2^31 - 1 (beyond, a timer fires at once). */
const isDuration = (x: unknown): x is number => isInt(x) && x > 0 && x < 2 ** 31
const isLeaseList = (x: unknown): x is number[] => Array.isArray(x) && x.length < 10_000 && x.every(isInt)
/** A line as it travels: a transferred port, or a channel line's name. */
const isPort = (x: unknown): x is LineRef => (typeof MessagePort !== 'undefined' && x instanceof MessagePort) || isLineName(x)

/** True if `data` is a control message at all (it has a type and a version), whatever the version. */
export function hasVersion(data: unknown): data is { t: string; v: number } {
  return isObj(data) && typeof data.t === 'string' && typeof data.v === 'number'
}

export function isCurrentVersion(data: { v: number }): boolean {
  return data.v === PROTOCOL_VERSION
}

export function parseTabToCoordinator(data: unknown): TabToCoordinator | undefined {
  if (!hasVersion(data) || !isCurrentVersion(data)) return undefined
  const m = data as Obj
  if (
    m.t === 'join' &&
    isStr(m.tabId) &&
    isStr(m.secret) &&
    isStr(m.tabLock) &&
    isPort(m.workerPort) &&
    isInt(m.epoch) &&
    (m.epoch as number) <= MAX_JOIN_EPOCH &&
    typeof m.holder === 'boolean' &&
    isDuration(m.hangTimeoutMs) &&
    typeof m.visible === 'boolean' &&
    (m.hiddenHandoffMs === undefined || m.hiddenHandoffMs === 0 || isDuration(m.hiddenHandoffMs)) &&
    (m.line === undefined || isLineName(m.line)) &&
    (m.serial === undefined || isInt(m.serial)) &&
    (m.to === undefined || isStr(m.to)) &&
    (m.since === undefined || (typeof m.since === 'number' && Number.isFinite(m.since)))
  ) {
    return data as unknown as TabToCoordinator
  }
  if (m.t === 'leave' && isStr(m.tabId)) return data as unknown as TabToCoordinator
  if (m.t === 'rejoin' && isStr(m.tabId) && isPort(m.workerPort)) return data as unknown as TabToCoordinator
  if (m.t === 'handoff' && isStr(m.tabId) && (m.action === 'claim' || m.action === 'release')) {
    return data as unknown as TabToCoordinator
  }
  if (m.t === 'visibility' && isStr(m.tabId) && typeof m.visible === 'boolean') return data as unknown as TabToCoordinator
  return undefined
}

export function parseCoordinatorToTab(data: unknown): CoordinatorToTab | undefined {
  if (!hasVersion(data)) return undefined
  const m = data as Obj
  if (m.t === 'rejected' && isObj(m.error)) return data as unknown as CoordinatorToTab
  if (!isCurrentVersion(data)) return undefined
  if (
    m.t === 'route' &&
    isInt(m.epoch) &&
    isStr(m.activeTabId) &&
    isPort(m.port) &&
    isStr(m.reason) &&
    isStr(m.token) &&
    isStorage(m.storage) &&
    isReason(m.storageReason)
  ) {
    return data as unknown as CoordinatorToTab
  }
  if (m.t === 'route-lost' && isInt(m.epoch) && isStr(m.reason) && (m.error === undefined || isObj(m.error))) {
    return data as unknown as CoordinatorToTab
  }
  if (m.t === 'welcome' && isStr(m.lock)) return data as unknown as CoordinatorToTab
  if (m.t === 'fence' || m.t === 'use-channel') return data as unknown as CoordinatorToTab
  if (
    m.t === 'roster' &&
    Array.isArray(m.tabIds) &&
    m.tabIds.every(isStr) &&
    (m.activeTabId === undefined || isStr(m.activeTabId))
  ) {
    return data as unknown as CoordinatorToTab
  }
  return undefined
}

export function parseCoordinatorToWorker(data: unknown): CoordinatorToWorker | undefined {
  if (!hasVersion(data) || !isCurrentVersion(data)) return undefined
  const m = data as Obj
  if (m.t === 'activate' && isInt(m.epoch) && typeof m.steal === 'boolean' && typeof m.at === 'number' && Number.isFinite(m.at)) {
    return data as unknown as CoordinatorToWorker
  }
  if (m.t === 'attach' && isInt(m.epoch) && isStr(m.tabId) && isPort(m.port) && isStr(m.token)) {
    return data as unknown as CoordinatorToWorker
  }
  if (m.t === 'tab-gone' && isStr(m.tabId)) return data as unknown as CoordinatorToWorker
  if (m.t === 'deactivate' && isInt(m.epoch) && (m.drain === undefined || m.drain === true))
    return data as unknown as CoordinatorToWorker
  if (m.t === 'ack' && isInt(m.epoch) && isInt(m.seq)) return data as unknown as CoordinatorToWorker
  if (m.t === 'standby' && typeof m.on === 'boolean') return data as unknown as CoordinatorToWorker
  return undefined
}

export function parseWorkerToCoordinator(data: unknown): WorkerToCoordinator | undefined {
  if (!hasVersion(data) || !isCurrentVersion(data)) return undefined
  const m = data as Obj
  if (m.t === 'activated' && isInt(m.epoch) && isDuration(m.hangTimeoutMs) && isStorage(m.storage) && isReason(m.storageReason))
    return data as unknown as WorkerToCoordinator
  if (m.t === 'heartbeat' && isInt(m.epoch) && isInt(m.seq)) return data as unknown as WorkerToCoordinator
  if (m.t === 'deactivated' && isInt(m.epoch)) return data as unknown as WorkerToCoordinator
  if (m.t === 'activate-failed' && isInt(m.epoch) && isObj(m.error)) {
    return data as unknown as WorkerToCoordinator
  }
  return undefined
}

/** Hot path: cheap structural checks only; parameter values are checked when they are bound. */
export function parseClientRequest(data: unknown): ClientRequest | undefined {
  if (!isObj(data)) return undefined
  if (data.t === 'exec') {
    if (
      isInt(data.id) &&
      isInt(data.lease) &&
      typeof data.sql === 'string' &&
      Array.isArray(data.params) &&
      (data.op === undefined || isStr(data.op)) &&
      (data.retry === undefined || typeof data.retry === 'boolean') &&
      (data.commit === undefined || data.commit === true) &&
      (data.describe === undefined || data.describe === true) &&
      (data.admin === undefined || ADMIN.has(data.admin as string)) &&
      (data.timeoutMs === undefined || isDuration(data.timeoutMs)) &&
      (data.releases === undefined || isLeaseList(data.releases))
    ) {
      return data as unknown as ClientRequest
    }
    return undefined
  }
  if (data.t === 'release' && isLeaseList(data.leases)) return data as unknown as ClientRequest
  if (data.t === 'withdraw' && isInt(data.lease)) return data as unknown as ClientRequest
  if (data.t === 'subscribe' && typeof data.on === 'boolean') return data as unknown as ClientRequest
  if (data.t === 'hello' && isStr(data.token)) return data as unknown as ClientRequest
  return undefined
}
