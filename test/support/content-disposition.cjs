// Jest on Node 20 cannot require() an ES module, and @fastify/static 10 (which serves
// the Swagger UI) requires content-disposition 3, an ES module. Node itself can, so the
// service uses the real one; under Jest the same function comes from content-disposition 1
// (CommonJS), shaped as version 3's named exports.
const contentDisposition = require('content-disposition-v1');

module.exports = { create: contentDisposition, parse: contentDisposition.parse };
