/** The programs the build holds, by name, with their source entry points. */
export declare const ENTRIES: Readonly<Record<'main' | 'migrate' | 'api-key', string>>;
/** The directory holding the build of the current sources, built first if needed. */
export declare function ensureBuilt(): Promise<string>;
