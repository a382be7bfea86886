/** What the user store refuses, as typed errors the gateway and the CLI map onto their answers. */

export class UserStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class UnknownUserError extends UserStoreError {
  constructor(readonly userName: string) {
    super(`no user named "${userName}"`);
  }
}

export class UserExistsError extends UserStoreError {
  constructor(readonly userName: string) {
    super(`a user named "${userName}" exists already`);
  }
}

export class AdminExistsError extends UserStoreError {
  constructor() {
    super('an admin exists already: bootstrap-admin only creates the first one (an admin creates the others with `users create`)');
  }
}

export class RevokedUserError extends UserStoreError {
  constructor(readonly userName: string) {
    super(`user "${userName}" is revoked; create a new user instead`);
  }
}
