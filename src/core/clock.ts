/** Milliseconds since the epoch. Stages take a clock instead of reading time so tests can freeze it. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
