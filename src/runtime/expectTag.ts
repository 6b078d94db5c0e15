/**
 * Narrowing an actor's reply to the tag its request expects. Actors with several request kinds reply
 * with a tagged union; a reply of another tag is a bug in the actor, so it is a defect, not a typed error.
 */
export const expectTag = <A extends { readonly _tag: string }, T extends A["_tag"]>(actor: string, out: A, tag: T): Extract<A, { _tag: T }> => {
  if (out._tag !== tag) throw new Error(`${actor} actor replied ${out._tag}, expected ${tag}`)
  return out as Extract<A, { _tag: T }>
}
