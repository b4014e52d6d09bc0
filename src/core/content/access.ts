/**
 * What the content use cases need to know about the caller beyond the request itself: whether a
 * repository other than the one being written may be read (cross-repository mounts). The HTTP edge
 * answers it from the authorization policy.
 */
export interface CallerAccess {
  mayRead(repository: string): Promise<boolean>;
}

export const unrestrictedAccess: CallerAccess = { mayRead: () => Promise.resolve(true) };
