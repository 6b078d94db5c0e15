/**
 * The teacher actor's public entry: its behavior (built from the config and the two asks it makes: the
 * policy's scores and the memory's views) and its protocol. Other folders import this module (or
 * src/protocol/teacher.ts), never the files beside it.
 */
export * from "../../src/protocol/teacher.ts"
export { type Scorer, teach, teacherBehavior, type Viewer } from "./Teacher.ts"
