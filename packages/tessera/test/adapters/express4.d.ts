// Express 4 is installed as the `express4` alias to test the adapter against both
// majors; its API used here is the same as Express 5's, so it borrows those types.
declare module 'express4' {
  import express from 'express';
  export default express;
}
