/**
 * OBJECT_SYMBOLIC_LINK: a symbolic link object's body — the name it stands for. Looking a
 * name up through a link substitutes the link's target for the part of the name that
 * reached the link and starts again from the root.
 */

/** A symbolic link object's body. */
export class OBJECT_SYMBOLIC_LINK {
  constructor(
    /** The name the link stands for ("\\Device\\Edu0"). */
    public LinkTarget: string,
    /** When the link was created, ps of simulated time. */
    readonly CreationTimePs: number,
  ) {}
}
