/**
 * `MessageTap`: an observer of every message an actor handled and the reply it gave, for tests that check
 * what crosses actor boundaries (test/protocol/boundary.test.ts encodes each with its schema and the
 * canonical codec). Provided in context when an actor starts (like TraceSink); absent, nothing is observed.
 * It sees a message once, when its handler succeeded (a crashed attempt that is re-delivered is not seen).
 */
import { Context } from "effect"

export interface TappedMessage {
  readonly actor: string
  readonly msg: unknown
  readonly reply: unknown
}

export class MessageTap extends Context.Service<MessageTap, { readonly onHandled: (m: TappedMessage) => void }>()("pmdsim/runtime/MessageTap") {}

/** A tap that keeps every handled message in memory, in handling order. */
export const tapBuffer = (): { readonly tap: MessageTap["Service"]; readonly handled: ReadonlyArray<TappedMessage> } => {
  const handled: Array<TappedMessage> = []
  return { tap: { onHandled: (m) => handled.push(m) }, handled }
}
