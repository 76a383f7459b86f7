import type express from 'express';
import { ServerError } from './errors.ts';

/** 503 with Retry-After once `limit` requests are already in progress on the routes it guards. */
export function concurrencyLimit(limit: number): express.RequestHandler {
  let inFlight = 0;
  return (_request, response, next) => {
    if (inFlight >= limit) {
      next(new ServerError('SERVER_OVERLOADED', `more than ${limit} writes in progress; retry shortly`));
      return;
    }
    inFlight += 1;
    let released = false;
    const release = () => {
      if (!released) {
        released = true;
        inFlight -= 1;
      }
    };
    response.on('finish', release);
    response.on('close', release);
    next();
  };
}
