/** How an emulator reports: the emulators process prefixes and forwards these lines. */
export type EmulatorLog = (level: "debug" | "info" | "warn" | "error", message: string) => void;
