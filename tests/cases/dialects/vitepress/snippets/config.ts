import { defineConfig } from 'vitepress'

// #region config
export default defineConfig({
  title: 'My Awesome Project',
  description: 'A VitePress site',
  themeConfig: {
    nav: [{ text: 'Guide', link: '/guide/' }]
  }
})
// #endregion config
