/**
 * What a tab's page and the coordinator say to each other: on the tab's line to it (a SharedWorker
 * port, or a channel line named in the join), and on the join channel every tab and a Web Locks
 * coordinator listen to (`join`, `left`, `ready`, `alive`, `ping`). What the parse functions take
 * is checked below each message's type; `left`, `ready`, `alive` and `ping` are checked where they
 * are heard (client/coordinator-link.ts, coordinator/join-channel.ts). See message-fields.ts for
 * what all conversations share.
 */
import type { SerializedError } from './errors.js'
import { isLineName, type LineRef } from './line.js'
import {
  hasVersion,
  isCurrentVersion,
  isDuration,
  isHandoffReason,
  isInt,
  isObj,
  isPort,
  isStorage,
  isStorageReason,
  isStr,
  isTime,
  type Fields,
  type HandoffReason,
  type StorageKind,
} from './message-fields.js'

// ---- tab main thread -> coordinator -------------------------------------------------------

export interface JoinMessage {
  readonly t: 'join'
  readonly v: number
  /** Public: every member learns it from the roster. The hash of `secret` (see tab-identity.ts). */
  readonly tabId: string
  /**
   * Private, made by the tab once: a join must bring the secret its tab id was derived from, so
   * that no other script can take the tab's place (and close its lines), even at a coordinator
   * that restarted and has not seen the tab yet.
   */
  readonly secret: string
  /** The name of the Web Lock this tab holds for its lifetime; the coordinator waits on it. */
  readonly tabLock: string
  /** A line to this tab's own worker, for activation and brokering. */
  readonly workerPort: LineRef
  /**
   * Joining over the join channel (no SharedWorker port): the name of this tab's line to the
   * coordinator, on which everything after the join travels.
   */
  readonly line?: string
  /** The highest election epoch this tab has seen (a restarted coordinator continues from it). */
  readonly epoch: number
  /** This tab's worker holds the database now (rejoining a restarted coordinator). */
  readonly holder: boolean
  /**
   * When this tab first joined (ms since the epoch): a restarted coordinator lines the tabs up
   * by it, as the first one did, so the oldest tab (and its warm standby) comes next still.
   */
  readonly since?: number
  /** This tab's hang bound: elected, its worker must show progress at least this often. */
  readonly hangTimeoutMs: number
  /** The page is visible (see VisibilityMessage). */
  readonly visible: boolean
  /** Active and hidden this long while another tab is visible, it hands the role over (absent: never). */
  readonly hiddenHandoffMs?: number
  /** The tab logs; the coordinator logs too (to its own console) once any tab asks. */
  readonly debug?: boolean
  /**
   * Counts this tab's joins: one sent again to a SharedWorker that did not answer may arrive after
   * it on another port, and an older one must not replace the newer one's lines.
   */
  readonly serial?: number
  /**
   * Joining over the join channel the coordinator that took over from a silent one: its lock (as
   * in its `ready`). Any other coordinator, such as the silent one waking up, ignores the join.
   */
  readonly to?: string
}
/**
 * A joining tab's epoch seeds a restarted coordinator's count. One near 2^53 (from a broken or
 * hostile script) would make every later epoch unsafe and every message carrying it invalid.
 */
const MAX_JOIN_EPOCH = 2 ** 48
const isJoin = (m: Fields): m is Fields & JoinMessage =>
  m.t === 'join' &&
  isStr(m.tabId) &&
  isStr(m.secret) &&
  isStr(m.tabLock) &&
  isPort(m.workerPort) &&
  isInt(m.epoch) &&
  m.epoch <= MAX_JOIN_EPOCH &&
  typeof m.holder === 'boolean' &&
  isDuration(m.hangTimeoutMs) &&
  typeof m.visible === 'boolean' &&
  (m.hiddenHandoffMs === undefined || m.hiddenHandoffMs === 0 || isDuration(m.hiddenHandoffMs)) &&
  (m.line === undefined || isLineName(m.line)) &&
  (m.serial === undefined || isInt(m.serial)) &&
  (m.to === undefined || isStr(m.to)) &&
  (m.since === undefined || isTime(m.since))

export interface LeaveMessage {
  readonly t: 'leave'
  readonly v: number
  readonly tabId: string
}
const isLeave = (m: Fields): m is Fields & LeaveMessage => m.t === 'leave' && isStr(m.tabId)

/** The tab replaced its worker (after being fenced): here is the new one's port. */
export interface RejoinMessage {
  readonly t: 'rejoin'
  readonly v: number
  readonly tabId: string
  readonly workerPort: LineRef
}
const isRejoin = (m: Fields): m is Fields & RejoinMessage => m.t === 'rejoin' && isStr(m.tabId) && isPort(m.workerPort)

/** Manual hand-off: `claim` makes this tab active, `release` hands the role to another tab. */
export interface HandoffMessage {
  readonly t: 'handoff'
  readonly v: number
  readonly tabId: string
  readonly action: 'claim' | 'release'
}
const isHandoff = (m: Fields): m is Fields & HandoffMessage =>
  m.t === 'handoff' && isStr(m.tabId) && (m.action === 'claim' || m.action === 'release')

/** The page was shown or hidden (or frozen, or put in the back/forward cache: hidden). */
export interface VisibilityMessage {
  readonly t: 'visibility'
  readonly v: number
  readonly tabId: string
  readonly visible: boolean
}
const isVisibility = (m: Fields): m is Fields & VisibilityMessage =>
  m.t === 'visibility' && isStr(m.tabId) && typeof m.visible === 'boolean'

export type TabToCoordinator = JoinMessage | LeaveMessage | RejoinMessage | HandoffMessage | VisibilityMessage

export function parseTabToCoordinator(data: unknown): TabToCoordinator | undefined {
  if (!hasVersion(data) || !isCurrentVersion(data)) return undefined
  if (isJoin(data) || isLeave(data) || isRejoin(data) || isHandoff(data) || isVisibility(data)) return data
  return undefined
}

// ---- coordinator -> tab main thread -------------------------------------------------------

export interface RouteMessage {
  readonly t: 'route'
  readonly v: number
  /** Increases with every election; a route with a lower epoch than one already seen is stale. */
  readonly epoch: number
  readonly activeTabId: string
  readonly reason: HandoffReason
  /** This tab's direct line to the active worker. */
  readonly port: LineRef
  /** Sent first on the port (`hello`): the worker serves the port only after it. */
  readonly token: string
  /** Where the active worker has the database. */
  readonly storage: StorageKind
  readonly storageReason?: string
}
const isRoute = (m: Fields): m is Fields & RouteMessage =>
  m.t === 'route' &&
  isInt(m.epoch) &&
  isStr(m.activeTabId) &&
  isPort(m.port) &&
  isHandoffReason(m.reason) &&
  isStr(m.token) &&
  isStorage(m.storage) &&
  isStorageReason(m.storageReason)

export interface RouteLostMessage {
  readonly t: 'route-lost'
  readonly v: number
  readonly epoch: number
  readonly reason: HandoffReason
  /** Set when no tab can serve the database (e.g. storage unavailable): requests fail with it. */
  readonly error?: SerializedError
}
const isRouteLost = (m: Fields): m is Fields & RouteLostMessage =>
  m.t === 'route-lost' && isInt(m.epoch) && isHandoffReason(m.reason) && (m.error === undefined || isObj(m.error))

export interface RejectedMessage {
  readonly t: 'rejected'
  readonly v: number
  readonly error: SerializedError
}
const isRejected = (m: Fields): m is Fields & RejectedMessage => m.t === 'rejected' && isObj(m.error)

/** Your worker was declared hung and lost the role: terminate it (freeing its files) and rejoin. */
export interface FenceMessage {
  readonly t: 'fence'
  readonly v: number
}
const isFence = (m: Fields): m is Fields & FenceMessage => m.t === 'fence'

/** Joined: the tab may now queue for the coordinator's lifetime lock to learn if it dies. */
export interface WelcomeMessage {
  readonly t: 'welcome'
  readonly v: number
  /**
   * The Web Lock this coordinator instance holds while it lives. Not the coordinator lock: other
   * would-be coordinators queue for that one, and would be granted it first.
   */
  readonly lock: string
}
const isWelcome = (m: Fields): m is Fields & WelcomeMessage => m.t === 'welcome' && isStr(m.lock)

/** Who is here: sent to every tab whenever a tab joins or leaves or the active tab changes. */
export interface RosterMessage {
  readonly t: 'roster'
  readonly v: number
  /** Tab ids, oldest first. */
  readonly tabIds: readonly string[]
  readonly activeTabId: string | undefined
}
const isRoster = (m: Fields): m is Fields & RosterMessage =>
  m.t === 'roster' && Array.isArray(m.tabIds) && m.tabIds.every(isStr) && (m.activeTabId === undefined || isStr(m.activeTabId))

/**
 * This SharedWorker is not the serving coordinator (a Web Locks coordinator of another tab is):
 * join over the join channel instead, so that every tab of the database meets one coordinator.
 */
export interface UseChannelMessage {
  readonly t: 'use-channel'
  readonly v: number
}
const isUseChannel = (m: Fields): m is Fields & UseChannelMessage => m.t === 'use-channel'

/** Posted on the join channel by a tab that is closing (see CoordinatorLink.close). */
export interface LeftMessage {
  readonly t: 'left'
  readonly v: number
  readonly tabId: string
}
/**
 * Posted on the join channel by a coordinator that starts serving: tabs not yet welcomed join
 * again, and tabs welcomed by another instance (one that fell silent and was taken over, see
 * CoordinatorLink) join this one.
 */
export interface ReadyMessage {
  readonly t: 'ready'
  readonly v: number
  /** The instance's lifetime lock, as in its `welcome`: which coordinator this is. */
  readonly lock: string
}
/** How often the serving coordinator says `alive` unasked. */
export const COORDINATOR_ALIVE_MS = 500
/**
 * Posted on the join channel by the serving coordinator every COORDINATOR_ALIVE_MS, and at once
 * when a tab pings: a tab that hears nothing from its coordinator takes its place (see
 * client/coordinator-silence.ts).
 */
export interface AliveMessage {
  readonly t: 'alive'
  readonly v: number
  readonly lock: string
}
/** Posted on the join channel by a tab that has heard nothing from its coordinator for a while. */
export interface PingMessage {
  readonly t: 'ping'
  readonly v: number
}
export type CoordinatorToTab =
  UseChannelMessage | RouteMessage | RouteLostMessage | RejectedMessage | FenceMessage | WelcomeMessage | RosterMessage

/** `rejected` is taken from any version: it is how a tab of another release learns why it is refused. */
export function parseCoordinatorToTab(data: unknown): CoordinatorToTab | undefined {
  if (!hasVersion(data)) return undefined
  if (isRejected(data)) return data
  if (!isCurrentVersion(data)) return undefined
  if (isRoute(data) || isRouteLost(data) || isWelcome(data) || isFence(data) || isUseChannel(data) || isRoster(data)) return data
  return undefined
}
