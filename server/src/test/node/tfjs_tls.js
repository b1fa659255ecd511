// Loads a layers model over HTTPS (the CA comes from NODE_EXTRA_CA_CERTS) with the read token and
// prints its prediction for [[1, 2, 3]].
const tf = require('@tensorflow/tfjs');
(async () => {
  try {
    const headers = {Authorization: 'Bearer ' + process.argv[3]};
    const m = await tf.loadLayersModel(process.argv[2] + '/models/m/model.json', {requestInit: {headers}});
    const y = m.predict(tf.tensor2d([[1, 2, 3]]));
    console.log(JSON.stringify({values: Array.from(await y.data())}));
  } catch (e) {
    console.log(JSON.stringify({error: String(e)}));
  }
})();
