// The browser's WebCrypto (crypto.subtle), which is all the KVS WebRTC SDK's request signer uses.
module.exports = globalThis.crypto;
