// The one line Vite's dev server needs (not `vite build`): serve this package from node_modules
// as it is instead of pre-bundling it into node_modules/.vite/deps, where the worker files are not.
export default { optimizeDeps: { exclude: ['kysely-multitab-opfs'] } }
