/**
 * `memory.sharpen` (issue #13) as the reflector's and consolidator's options. Absent or "off" gives back the
 * defaults themselves, so a default run's memory, and every pinned hash, stays the same.
 * "reflector": lessons only from a contrast with a success (ReflectConfig.lessons = "contrast");
 * "all": that, and skill behaviors only (AbstractConfig.kinds = "skill"); "no-lessons": the reflector writes
 * strategies only (so the consolidator, with no lessons to abstract, writes skill behaviors only).
 */
import type { AbstractConfig } from "./behavior/abstract.ts"
import { defaultReflectConfig, type ReflectConfig } from "./insight/reflect.ts"

export type Sharpen = "off" | "reflector" | "all" | "no-lessons"

export const reflectConfigFor = (sharpen: Sharpen | undefined): ReflectConfig =>
  sharpen === "reflector" || sharpen === "all" ? { ...defaultReflectConfig, lessons: "contrast" }
  : sharpen === "no-lessons" ? { ...defaultReflectConfig, lessons: "none" }
  : defaultReflectConfig

/** The abstraction options with `memory.sharpen` applied (the same object when it changes nothing). */
export const abstractConfigFor = (base: AbstractConfig, sharpen: Sharpen | undefined): AbstractConfig =>
  sharpen === "all" ? { ...base, kinds: "skill" } : base
