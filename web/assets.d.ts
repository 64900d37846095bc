// Stylesheets and images imported by the clients are bundled by esbuild (web/build.mjs).
declare module "*.css";
declare module "*.png" {
  const url: string;
  export default url;
}
