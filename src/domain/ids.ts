import { Types } from 'mongoose';

/**
 * The ObjectId an id string names, or null when it is not one: such an id names nothing and
 * answers like any unknown id. Only the 24-hex form is accepted (mongoose would also take any
 * 12-character string as an id).
 */
export function parseObjectId(id: string): Types.ObjectId | null {
  return /^[0-9a-f]{24}$/i.test(id) ? new Types.ObjectId(id) : null;
}
