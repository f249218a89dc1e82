/** The matrix's product tests (matrix.ts) against `proftpd AllowStoreRestart on`. @module */
import { matrixEntry } from "../helpers/real_server.ts";
import { matrixTests } from "./matrix.ts";

matrixTests(matrixEntry("proftpd AllowStoreRestart on"));
