// A local S3-compatible object store for development and tests: @20minutes/s3rver, which checks SigV4 signatures
// (an altered or expired signed link is refused, as AWS S3 refuses it). Everything it needs comes from the environment.
'use strict'
const S3rver = require('@20minutes/s3rver/lib/s3rver')
const AWSAccount = require('@20minutes/s3rver/lib/models/account')

const port = Number(process.env.OBJECT_STORE_PORT)
const bucket = process.env.OBJECT_STORE_BUCKET
const accessKey = process.env.OBJECT_STORE_ACCESS_KEY
const secretKey = process.env.OBJECT_STORE_SECRET_KEY
if (!port || !bucket || !accessKey || !secretKey || !process.env.OBJECT_STORE_DIRECTORY) {
  console.error('OBJECT_STORE_PORT, _DIRECTORY, _BUCKET, _ACCESS_KEY and _SECRET_KEY are required.')
  process.exit(2)
}

// Only this store's own key pair signs: the package's well-known default pair is revoked.
AWSAccount.DUMMY_ACCOUNT.revokeAccessKey('S3RVER')
AWSAccount.DUMMY_ACCOUNT.createKeyPair(accessKey, secretKey)

const server = new S3rver({
  address: '127.0.0.1',
  port,
  directory: process.env.OBJECT_STORE_DIRECTORY,
  silent: true,
  configureBuckets: [{ name: bucket, configs: [] }],
})
// SDKs sign a bucket-level request (a listing) on its path as sent, "/bucket/"; the server rebuilds that path as
// "/bucket" and would refuse the signature. S3 checks the path as sent, and so does this store: such a request is
// checked as the path-style form it is (before the router, the last middleware).
server.middleware.splice(server.middleware.length - 1, 0, (ctx, next) => {
  if (/^\/[^/]+\/$/.test(ctx.path)) {
    ctx.state.vhost = true
    ctx.mountPath = '/'
  }
  return next()
})

server.run().then(
  () => console.log(`object store listening on http://127.0.0.1:${port}, bucket ${bucket}`),
  (error) => {
    console.error(error)
    process.exit(1)
  })
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)))
}
