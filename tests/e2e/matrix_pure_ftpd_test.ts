/** The matrix's product tests (matrix.ts) against `pure-ftpd`. @module */
import { matrixEntry } from "../helpers/real_server.ts";
import { matrixTests } from "./matrix.ts";

matrixTests(matrixEntry("pure-ftpd"));
