export default function greet(name) {
  const message = `Hello, ${name}!`
  console.log(message)
  return message
}
