/**
 * Feedback blocks shared by the domains. A feedback block is complete (`[FB] ... [END]`) so memory can
 * store and paste it as is; it names the first failure only, so blocks stay a few tokens long.
 */
import { Control } from "./control.ts"
import type { ErrorKind } from "./Domain.ts"
import { ErrKind } from "./vocab.ts"

const ERR_TOKEN: Record<ErrorKind, number> = {
  parse: ErrKind.E_PARSE, fuel: ErrKind.E_FUEL, size: ErrKind.E_SIZE, div0: ErrKind.E_DIV, toolong: ErrKind.E_LEN
}

/** `[FB] [ERR] kind [END]`. */
export const errorFeedback = (kind: ErrorKind): Array<number> => [Control.FB, Control.ERR, ERR_TOKEN[kind], Control.END]
