// Values the contract project's globalSetup hands to the test files (read them with `inject`).

export {};

declare module 'vitest' {
  export interface ProvidedContext {
    /** Endpoint of the shared moto_server, or null when moto_server is not available (outside CI). */
    motoEndpoint: string | null;
  }
}
