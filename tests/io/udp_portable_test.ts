// Tests of the portable (node:dgram) responders over real loopback UDP.
import { defineResponderContract } from "./_responders_contract.ts";

defineResponderContract("portable");
