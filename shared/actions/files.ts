/** files actions, declared once with defineAction (see shared/actions/types.ts). */
export {};
