import { z } from 'zod';

export const UserNameSchema = z.string().regex(/^[A-Za-z0-9._@-]{1,100}$/, 'name must be 1-100 letters, digits or ._@-');
