// A stand-in for the Azure Functions Node.js worker at indexing time, for `node -r`: the worker
// answers require('@azure/functions-core') with its own module (which is how @azure/functions
// registers functions with the host); this one records each registerFunction call in
// globalThis.__registeredFunctions. Used by the package test and the cold-start benchmark, so
// that an entry is timed and checked doing what it does in Azure: registering with the host.
const Module = require('node:module');

const registered = [];
const core = {
  version: '3.10.1',
  hostVersion: '4.1037.1.1',
  registerFunction(metadata) {
    registered.push(metadata);
    return { dispose() {} };
  },
  setProgrammingModel() {},
  getProgrammingModel() {},
  registerHook() {
    return { dispose() {} };
  },
  log() {},
};
const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === '@azure/functions-core') return core;
  return load.call(this, request, ...rest);
};
globalThis.__registeredFunctions = registered;
