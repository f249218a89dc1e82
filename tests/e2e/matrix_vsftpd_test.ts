/** The matrix's product tests (matrix.ts) against `vsftpd`. @module */
import { matrixEntry } from "../helpers/real_server.ts";
import { matrixTests } from "./matrix.ts";

matrixTests(matrixEntry("vsftpd"));
