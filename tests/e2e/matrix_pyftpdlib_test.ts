/** The matrix's product tests (matrix.ts) against `pyftpdlib`. @module */
import { matrixEntry } from "../helpers/real_server.ts";
import { matrixTests } from "./matrix.ts";

matrixTests(matrixEntry("pyftpdlib"));
