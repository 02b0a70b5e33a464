// The three-tier app from TypeScript: the package's ThreeTierApp (the Python components behind it),
// the frontend on a pinned node port, every other setting at its default.
import * as threetier from "@pulumi/threetier";

const app = new threetier.ThreeTierApp("app", {
    namespace: "threetier-ts",
    frontend: { serviceType: "NodePort", nodePort: 30280 },
});

// The Python stacks' outputs, so the same verifier reads them (python -m verify --outputs FILE).
export const namespace = app.namespace;
export const clusterDomain = app.clusterDomain;
export const frontend = app.frontend;
export const backend = app.backend;
export const database = app.database;
export const networkPolicies = app.networkPolicies;
export const databasePasswordSecret = app.databasePasswordSecret;
export const databaseUrl = app.databaseUrl;
