// Prints detectStderrStyle() for this process, so a test can check it under a terminal, a pipe or the journal.
import { detectStderrStyle } from "../../src/daemon/logging.ts";

console.log(detectStderrStyle());
