/**
 * How Graph refuses a bad request body in the Outlook workload, shared by the mailbox modules:
 * `RequestBodyRead` for what the CSDL does not allow (unknown property, enum member, type), and
 * `ErrorInvalidRequest` for values of the right type that Exchange refuses.
 */
import { GraphHttpError } from '../errors';

export function requestBodyRead(message: string): GraphHttpError {
  return new GraphHttpError(400, 'RequestBodyRead', message);
}

export function invalid(message: string): GraphHttpError {
  return new GraphHttpError(400, 'ErrorInvalidRequest', message);
}

export function unknownProperty(key: string, type: string): GraphHttpError {
  return requestBodyRead(
    `The property '${key}' does not exist on type 'microsoft.graph.${type}'. Make sure to only use property names that are defined by the type or mark the type as open type.`,
  );
}

/** A member of a CSDL enum, or RequestBodyRead naming the type. */
export function enumValue<T extends string>(value: unknown, members: readonly T[], type: string): T {
  if (typeof value === 'string' && (members as readonly string[]).includes(value)) return value as T;
  throw requestBodyRead(
    `Cannot convert the literal '${String(value)}' to the expected type 'microsoft.graph.${type}'.`,
  );
}
